/// A resource as declared in a manifest, after decoding and validation.
public struct Resource: Sendable {
    public let id: ResourceID
    public var apiVersion: String
    public let metadata: ResourceMetadata
    /// The spec, validated and normalised (quantities in bytes, durations in ms, secrets as references).
    public let spec: Value
    /// Every field that names another resource: the graph's edges.
    public var references: [Reference]
    /// Where the document starts.
    public var location: SourceLocation
    /// The document as read, with positions, for diagnostics found after loading.
    public var source: SourceNode

    public init(
        id: ResourceID,
        apiVersion: String,
        metadata: ResourceMetadata,
        spec: Value,
        references: [Reference],
        location: SourceLocation,
        source: SourceNode
    ) {
        self.id = id
        self.apiVersion = apiVersion
        self.metadata = metadata
        self.spec = spec
        self.references = references
        self.location = location
        self.source = source
    }

    /// `sha256:…` of the id, spec and annotations: what the manifest digest of a plan is made of.
    public func contentDigest() -> String {
        CanonicalJSON.digest(
            .map([
                "id": .string(id.description), "spec": spec,
                "annotations": .map(metadata.annotations.mapValues(Value.string)),
            ])
        )
    }

    /// The manifest position of a field (or of the nearest enclosing node that exists).
    public func location(of path: FieldPath) -> SourceLocation {
        let node = source.node(at: path)
        return SourceLocation(file: location.file, line: Int(node.line), column: Int(node.column))
    }

    /// Decodes the spec into its typed form.
    public func decodeSpec<S: ResourceSpec>(_ type: S.Type = S.self) throws -> S {
        try ValueDecoder().decode(S.self, from: spec)
    }
}

/// A resource's metadata.
public struct ResourceMetadata: Sendable, Hashable, Codable {
    public var name: String
    public var labels: [String: String]
    public var annotations: [String: String]
    /// Explicit ordering edges besides the references in the spec.
    public var dependsOn: [ResourceID]
    /// Spec paths never compared (Argo CD's ignoreDifferences), dotted, `*` for one key: `tags`, `disks.*.cache`.
    public var ignore: [String]

    public init(
        name: String,
        labels: [String: String] = [:],
        annotations: [String: String] = [:],
        dependsOn: [ResourceID] = [],
        ignore: [String] = []
    ) {
        self.name = name
        self.labels = labels
        self.annotations = annotations
        self.dependsOn = dependsOn
        self.ignore = ignore
    }
}

/// A field of one resource naming another: an edge of the dependency graph.
public struct Reference: Sendable, Hashable, Codable {
    public var target: ResourceID
    public var path: FieldPath
    public var location: SourceLocation

    public init(target: ResourceID, path: FieldPath, location: SourceLocation) {
        self.target = target
        self.path = path
        self.location = location
    }
}

/// A kind's typed spec, decoded from a validated `Value`.
public protocol ResourceSpec: Codable, Sendable, Equatable {
    static var kind: ResourceKind { get }
}

extension Resource {
    /// A stand-in for an owned resource no manifest declares any more (an orphan), so a provider can observe
    /// or delete it: its spec is empty and its location unknown.
    public static func orphan(_ id: ResourceID) -> Resource {
        let location = SourceLocation(file: "(state)", line: 0, column: 0)
        return Resource(
            id: id,
            apiVersion: KindRegistry.apiVersion,
            metadata: ResourceMetadata(name: id.name),
            spec: .map([:]),
            references: [],
            location: location,
            source: SourceNode(.mapping([]), line: 0, column: 0)
        )
    }

    /// True for the stand-in `orphan(_:)` makes (no manifest declares the resource).
    public var isOrphan: Bool { location.file == "(state)" && spec == .map([:]) }
}
