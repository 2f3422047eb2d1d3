import Foundation
import SetpointCore
import SetpointExec

/// One AlertRuleGroup as a Prometheus rule file: `RULES/setpoint-NAME.yml`, rendered deterministically, read back into
/// the manifest's shape.
enum RuleFiles {
    static let prefix = "setpoint-"

    static func path(group: String, rulesDirectory: String) -> String { "\(rulesDirectory)/\(prefix)\(group).yml" }

    /// Whether a file in the rules folder is one Setpoint writes (the others are never touched).
    static func isOurs(_ fileName: String) -> Bool { fileName.hasPrefix(prefix) && fileName.hasSuffix(".yml") }

    static func duration(_ ms: Int64) -> String { DurationValue(milliseconds: ms).description }

    static func render(group name: String, spec: AlertRuleGroupSpec) -> String {
        var group: [(String, YAMLNode)] = [("name", .string(name))]
        if let i = spec.interval { group.append(("interval", .scalar(duration(i.milliseconds)))) }
        if let l = spec.limit { group.append(("limit", .scalar(String(l)))) }
        let rules: [YAMLNode] = spec.rules.map { r in
            var m: [(String, YAMLNode)] = []
            if let a = r.alert { m.append(("alert", .string(a))) }
            if let rec = r.record { m.append(("record", .string(rec))) }
            m.append(("expr", .string(r.expr)))
            if let f = r.for { m.append(("for", .scalar(duration(f.milliseconds)))) }
            if let k = r.keepFiringFor { m.append(("keep_firing_for", .scalar(duration(k.milliseconds)))) }
            if let labels = r.labels, !labels.isEmpty {
                m.append(("labels", .map(labels.keys.sorted().map { ($0, .string(labels[$0]!)) })))
            }
            if let ann = r.annotations, !ann.isEmpty {
                m.append(("annotations", .map(ann.keys.sorted().map { ($0, .string(ann[$0]!)) })))
            }
            return .map(m)
        }
        group.append(("rules", .list(rules)))
        let body = YAMLNode.map([("groups", .list([.map(group)]))]).text(indent: 0)
        return
            "# Managed by Setpoint (AlertRuleGroup/\(name)): the next apply rewrites this file; change the manifest instead.\n"
            + body + "\n"
    }

    /// A rule file's group in the manifest's shape (`interval`, `limit`, `rules`); nil when it is not one group.
    static func read(_ text: String, file: String) -> [String: Value]? {
        guard let root = YAMLValues.parse(text, file: file), case .list(let groups)? = root["groups"],
            groups.count == 1,
            case .map(let g) = groups[0]
        else { return nil }
        var out: [String: Value] = [:]
        if let i = YAMLValues.milliseconds(g["interval"]) { out["interval"] = .int(i) }
        if let l = g["limit"]?.stringValue.flatMap(Int64.init) { out["limit"] = .int(l) }
        guard case .list(let rules)? = g["rules"] else { return out }
        out["rules"] = .list(
            rules.map { r in
                var m: [String: Value] = [:]
                if let a = r["alert"]?.stringValue { m["alert"] = .string(a) }
                if let a = r["record"]?.stringValue { m["record"] = .string(a) }
                if let e = r["expr"]?.stringValue { m["expr"] = .string(e) }
                if let f = YAMLValues.milliseconds(r["for"]) { m["for"] = .int(f) }
                if let k = YAMLValues.milliseconds(r["keep_firing_for"]) { m["keepFiringFor"] = .int(k) }
                if case .map(let labels)? = r["labels"] { m["labels"] = .map(labels) }
                if case .map(let ann)? = r["annotations"] { m["annotations"] = .map(ann) }
                return .map(m)
            }
        )
        return out
    }
}
