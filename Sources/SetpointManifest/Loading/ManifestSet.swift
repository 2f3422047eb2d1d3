public import SetpointCore

/// Everything loaded from a set of manifest paths: the resources, and every problem found.
public struct ManifestSet: Sendable {
    /// Valid resources, in file and document order.
    public var resources: [Resource]
    /// Every diagnostic of the run, in reporting order (file, line, column).
    public var diagnostics: [Diagnostic]
    /// The files read, in the order they were read.
    public var files: [String]
    /// Documents skipped because their apiVersion is not `setpoint/…`.
    public var skippedDocuments: Int

    public init(
        resources: [Resource] = [],
        diagnostics: [Diagnostic] = [],
        files: [String] = [],
        skippedDocuments: Int = 0
    ) {
        self.resources = resources
        self.diagnostics = diagnostics
        self.files = files
        self.skippedDocuments = skippedDocuments
    }

    /// True when no diagnostic is an error.
    public var isValid: Bool { !diagnostics.hasErrors }

    /// The resource with an id, if declared.
    public func resource(_ id: ResourceID) -> Resource? { resources.first { $0.id == id } }

    /// The dependency graph of the resources (references and `dependsOn`).
    public var graph: DependencyGraph {
        let ids = Set(resources.map(\.id))
        var edges: [(from: ResourceID, to: ResourceID)] = []
        for r in resources {
            for ref in r.references where ids.contains(ref.target) { edges.append((r.id, ref.target)) }
        }
        return DependencyGraph(nodes: resources.map(\.id), edges: edges)
    }
}
