import Foundation
import SetpointCore

/// An AlertRouting as Alertmanager's configuration file (secrets resolved into it: the file is written 0600, or with
/// the mode and owner of the file it replaces), and Alertmanager's running configuration read back into the
/// manifest's shape.
enum RoutingConfig {
    /// The configuration file of a (validated) spec, in the tables' order (RoutingFields); `secret` resolves a reference
    /// named by its manifest path (`spec.receivers[0].slack[0].apiURL`).
    static func render(
        _ name: String,
        spec: Value,
        secret: (SecretReference, String) throws -> String
    ) throws -> String {
        let root = try RoutingFields.entries(spec, RoutingFields.root, at: "spec", secret: secret)
        return
            "# Managed by Setpoint (AlertRouting/\(name)): the next apply rewrites this file; change the manifest instead.\n"
            + YAMLNode.map(root).text(indent: 0) + "\n"
    }

    // MARK: reading Alertmanager's configuration back

    /// Alertmanager's running configuration (`config.original`) in the manifest's shape; secrets come back as
    /// `<secret>` and are compared by the fingerprint of what was applied.
    static func shape(_ live: Value) -> [String: Value] { RoutingFields.read(live, RoutingFields.root) }

    /// Matchers in one form: `name="value"` (Alertmanager prints them quoted whatever was written).
    static func matchers(_ v: Value) -> Value {
        guard case .list(let l) = v else { return v }
        return .list(l.map { .string(canonicalMatcher($0.stringValue ?? "")) })
    }

    static func canonicalMatcher(_ text: String) -> String {
        let t = text.trimmingCharacters(in: .whitespaces)
        for op in ["=~", "!~", "!=", "="] {
            guard let r = t.range(of: op) else { continue }
            let name = t[..<r.lowerBound].trimmingCharacters(in: .whitespaces)
            var value = t[r.upperBound...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
                value = String(value.dropFirst().dropLast()).replacingOccurrences(of: "\\\"", with: "\"")
            }
            return name + op + "\"" + value.replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        return t
    }

    /// The live configuration cut to the keys the manifest sets (so Alertmanager's defaults do not show as changes),
    /// element by element; a secret in the manifest stands where Alertmanager shows `<secret>`.
    /// Keys the last apply had and the manifest no longer has are kept too, so that removing them plans a change.
    static func project(_ live: Value?, onto desired: Value, also applied: Value? = nil) -> Value? {
        guard let live else { return nil }
        switch (live, desired) {
        case (.map(let l), .map(let d)):
            var out: [String: Value] = [:]
            let a: [String: Value] = { if case .map(let m)? = applied { return m } else { return [:] } }()
            for k in Set(d.keys).union(a.keys) {
                guard let shape = d[k] ?? a[k], let p = project(l[k], onto: shape, also: a[k]) else { continue }
                out[k] = p
            }
            return .map(out)
        case (.list(let l), .list(let d)):
            let a: [Value] = { if case .list(let x)? = applied { return x } else { return [] } }()
            return .list(
                l.enumerated().map { i, item in
                    let shape = i < d.count ? d[i] : (i < a.count ? a[i] : nil)
                    return shape.flatMap { project(item, onto: $0, also: i < a.count ? a[i] : nil) } ?? item
                }
            )
        case (_, .secret):
            return desired
        case (.string(let s), .string(let t)) where canonicalMatcher(s) == canonicalMatcher(t) && s.contains("="):
            return desired
        default:
            return live
        }
    }
}
