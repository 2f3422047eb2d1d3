public import SetpointCore

/// One YAML document of a file, read with positions but not yet decoded.
public struct YAMLDocument: Sendable {
    /// The document's root node; nil for an empty document.
    public var root: SourceNode?
    /// Where the document starts (1-based).
    public var line: Int
    /// True when a problem was found that makes the tree unusable (an alias, excessive nesting).
    public var isRefused: Bool
}

/// Limits that protect the loader from hostile or broken input.
public struct LoaderLimits: Sendable, Hashable {
    /// Largest file read, in bytes.
    public var maxFileSize: Int
    /// Deepest nesting of mappings and sequences.
    public var maxDepth: Int

    public init(maxFileSize: Int = 16 << 20, maxDepth: Int = 64) {
        self.maxFileSize = maxFileSize
        self.maxDepth = maxDepth
    }

    public static let `default` = LoaderLimits()
}
