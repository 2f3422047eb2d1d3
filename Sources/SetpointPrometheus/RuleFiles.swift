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

    /// The rule file of a group's (validated) spec, fields in the tables' order (RuleFields).
    static func render(group name: String, spec: Value) -> String {
        var group: [(String, YAMLNode)] = [("name", .string(name))]
        group += RuleFields.fileEntries(RuleFields.group, of: spec)
        var rules: [YAMLNode] = []
        if case .list(let list)? = spec["rules"] {
            rules = list.map { YAMLNode.map(RuleFields.fileEntries(RuleFields.rule, of: $0)) }
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
        var out = RuleFields.fromFile(RuleFields.group, .map(g))
        guard case .list(let rules)? = g["rules"] else { return out }
        out["rules"] = .list(rules.map { .map(RuleFields.fromFile(RuleFields.rule, $0)) })
        return out
    }
}
