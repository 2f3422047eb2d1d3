/// A YAML node with its position, as the manifest loader reads it: scalars keep their text and style
/// (so `no` and `"no"` stay distinguishable), mappings keep key order and the position of every key.
public struct SourceNode: Sendable {
    /// How a scalar was written. Only plain scalars are subject to YAML 1.1 type resolution.
    public enum ScalarStyle: UInt8, Sendable {
        case plain, singleQuoted, doubleQuoted, literal, folded
    }

    public struct Scalar: Sendable {
        public var text: String
        public var style: ScalarStyle
        /// An explicit tag such as `!!str`, if one was written.
        public var tag: String?

        public init(text: String, style: ScalarStyle, tag: String? = nil) {
            self.text = text
            self.style = style
            self.tag = tag
        }
    }

    public struct Pair: Sendable {
        public var key: SourceNode
        public var value: SourceNode

        public init(key: SourceNode, value: SourceNode) {
            self.key = key
            self.value = value
        }
    }

    public enum Content: Sendable {
        case scalar(Scalar)
        case mapping([Pair])
        case sequence([SourceNode])
    }

    public var content: Content
    /// 1-based line of the node's first character.
    public var line: Int32
    /// 1-based column of the node's first character.
    public var column: Int32

    public init(_ content: Content, line: Int32, column: Int32) {
        self.content = content
        self.line = line
        self.column = column
    }

    public var scalar: Scalar? {
        if case .scalar(let s) = content { return s }
        return nil
    }

    /// The value node under a mapping key, or nil.
    public subscript(key: String) -> SourceNode? { pair(key)?.value }

    /// The key/value pair for a mapping key, or nil.
    public func pair(_ key: String) -> Pair? {
        guard case .mapping(let pairs) = content else { return nil }
        return pairs.first { $0.key.scalar?.text == key }
    }

    /// The node at a field path, or the deepest node that exists on the way there.
    public func node(at path: FieldPath) -> SourceNode {
        var node = self
        for component in path.components {
            switch (component, node.content) {
            case (.key(let k), .mapping):
                guard let next = node[k] else { return node }
                node = next
            case (.index(let i), .sequence(let items)) where i < items.count:
                node = items[i]
            default:
                return node
            }
        }
        return node
    }
}

/// A path into a document: `spec.disks.scsi0.size`, `spec.rules[2].expr`.
public struct FieldPath: Sendable, Hashable, Codable, CustomStringConvertible, ExpressibleByArrayLiteral {
    public enum Component: Sendable, Hashable, Codable {
        case key(String)
        case index(Int)
    }

    public var components: [Component]

    public init(_ components: [Component] = []) { self.components = components }
    public init(arrayLiteral elements: String...) { components = elements.map { .key($0) } }

    public func appending(_ key: String) -> FieldPath { FieldPath(components + [.key(key)]) }
    public func appending(index: Int) -> FieldPath { FieldPath(components + [.index(index)]) }

    public var description: String {
        var out = ""
        for c in components {
            switch c {
            case .key(let k): out += out.isEmpty ? k : ".\(k)"
            case .index(let i): out += "[\(i)]"
            }
        }
        return out
    }

    public init(from decoder: any Decoder) throws {
        // Only the textual form is encoded; decoding keeps it as one opaque key per dotted segment.
        let text = try decoder.singleValueContainer().decode(String.self)
        components = text.split(separator: ".").map { .key(String($0)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
