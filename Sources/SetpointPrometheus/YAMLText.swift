import Foundation
import SetpointCore
import SetpointYAML

/// A YAML node to emit, keys in the order given: rule files and Alertmanager configurations are rendered byte for byte
/// the same from the same manifest.
indirect enum YAMLNode: Sendable, Equatable {
    case scalar(String)
    /// A string, always double-quoted (JSON escaping is valid YAML).
    case string(String)
    case list([YAMLNode])
    case map([(String, YAMLNode)])

    static func == (a: YAMLNode, b: YAMLNode) -> Bool { a.text(indent: 0) == b.text(indent: 0) }

    static func quoted(_ s: String) -> String { YAMLQuoting.doubleQuoted(s) }

    var isEmptyCollection: Bool {
        switch self {
        case .list(let l): l.isEmpty
        case .map(let m): m.isEmpty
        default: false
        }
    }

    /// The node as block YAML at `indent` spaces (for a map or list value, starting on its own line).
    func text(indent: Int) -> String {
        let pad = String(repeating: " ", count: indent)
        switch self {
        case .scalar(let s): return s
        case .string(let s): return Self.quoted(s)
        case .list(let items):
            if items.isEmpty { return "[]" }
            return items.map { item -> String in
                switch item {
                case .map(let pairs) where !pairs.isEmpty:
                    // `- key: value` with the other keys under it.
                    let body = YAMLNode.map(pairs).text(indent: indent + 2)
                    return pad + "- " + body.dropFirst(indent + 2)
                case .list, .map:
                    return pad + "- " + item.text(indent: indent + 2).trimmingCharacters(in: .whitespaces)
                default:
                    return pad + "- " + item.text(indent: indent + 2)
                }
            }.joined(separator: "\n")
        case .map(let pairs):
            if pairs.isEmpty { return "{}" }
            return pairs.map { key, value -> String in
                let k =
                    key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) && !key.isEmpty ? key : Self.quoted(key)
                switch value {
                case .list, .map:
                    if value.isEmptyCollection { return pad + k + ": " + value.text(indent: 0) }
                    let childIndent = { if case .list = value { return indent } else { return indent + 2 } }()
                    return pad + k + ":\n" + value.text(indent: childIndent)
                default:
                    return pad + k + ": " + value.text(indent: indent + 2)
                }
            }.joined(separator: "\n")
        }
    }
}

/// Plain values from YAML Setpoint reads back (a rule file it wrote, Alertmanager's `config.original`).
enum YAMLValues {
    /// Parses one YAML document into a `Value` (scalars stay strings); nil when it does not parse.
    static func parse(_ text: String, file: String) -> Value? {
        var diagnostics: [Diagnostic] = []
        let docs = YAMLReader().read(Array(text.utf8), file: file, diagnostics: &diagnostics)
        guard diagnostics.filter({ $0.severity == .error }).isEmpty, let root = docs.first?.root else { return nil }
        return value(root)
    }

    static func value(_ node: SourceNode) -> Value {
        switch node.content {
        case .scalar(let s):
            if s.style == .plain && (s.text == "null" || s.text == "~" || s.text.isEmpty) { return .null }
            return .string(s.text)
        case .sequence(let items): return .list(items.map(value))
        case .mapping(let pairs):
            var m: [String: Value] = [:]
            for p in pairs { if let k = p.key.scalar?.text { m[k] = value(p.value) } }
            return .map(m)
        }
    }

    /// A Prometheus or Alertmanager duration (`1h30m`, `90s`, `500ms`) in milliseconds.
    static func milliseconds(_ v: Value?) -> Int64? {
        guard let text = v?.stringValue else { return nil }
        return DurationValue.parse(text)?.milliseconds
    }
}
