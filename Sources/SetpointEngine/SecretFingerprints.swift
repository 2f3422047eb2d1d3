import Foundation
public import SetpointCore

/// Resolves secret references from the environment of the process or from files.
public struct EnvironmentSecretResolver: SecretResolver {
    public var environment: [String: String]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    public func resolve(_ reference: SecretReference) throws -> String {
        switch reference {
        case .env(let name):
            guard let value = environment[name] else {
                throw SetpointError(
                    .secretUnavailable,
                    "secret from env \(name) is not set: export \(name) in the environment setpoint runs in"
                )
            }
            return value
        case .file(let path):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw SetpointError(
                    .secretUnavailable,
                    "secret file \(path) cannot be read: create it, or let this user read it"
                )
            }
            var text = String(decoding: data, as: UTF8.self)
            if text.hasSuffix("\n") { text.removeLast() }
            if text.hasSuffix("\r") { text.removeLast() }
            return text
        }
    }
}

/// Fingerprints of write-only values for `Differ` (`WriteOnlyFingerprint`): the digest of the value as written
/// (for a secret, its reference) and, when the secret can be resolved, a digest of its value salted with the field
/// path — so rotating a secret behind an unchanged reference is a change, and a plan that cannot read the secret
/// (CI) compares references instead of reporting every secret as changed.
///
/// Known limit: the value digest is salted, not keyed; whoever reads the state can test guesses of a weak secret.
public enum SecretFingerprints {
    public static func make(_ resolver: any SecretResolver) -> @Sendable (FieldPath, Value) -> String {
        { path, value in
            var valueDigest: String?
            if case .secret(let ref) = value, let secret = try? resolver.resolve(ref) {
                valueDigest = "sha256:" + SHA256.hex("setpoint/v1\u{0}\(path)\u{0}\(secret)")
            } else if let secrets = resolvedSecrets(in: value, resolver) {
                // A list or map holding secrets (a receiver list): every secret's value counts, in order.
                valueDigest =
                    "sha256:" + SHA256.hex("setpoint/v1\u{0}\(path)\u{0}" + secrets.joined(separator: "\u{0}"))
            }
            return WriteOnlyFingerprint(reference: CanonicalJSON.digest(value), value: valueDigest).text
        }
    }

    /// The values of every secret inside a list or map, in a stable order; nil when there is none or one cannot be read.
    static func resolvedSecrets(in value: Value, _ resolver: any SecretResolver) -> [String]? {
        var out: [String] = []
        func walk(_ v: Value) -> Bool {
            switch v {
            case .secret(let ref):
                guard let s = try? resolver.resolve(ref) else { return false }
                out.append(s)
                return true
            case .list(let l): return l.allSatisfy(walk)
            case .map(let m): return m.keys.sorted().allSatisfy { walk(m[$0]!) }
            default: return true
            }
        }
        switch value {
        case .list, .map: break
        default: return nil
        }
        guard walk(value), !out.isEmpty else { return nil }
        return out
    }
}
