/// A plan is data: what would change, in order, with the fingerprints of what was observed.
///
/// Computed by `Planner` (pure); rendered by SetpointRender; carried out by the Applier. `reasons` and the text
/// rendering are for people only — nothing downstream branches on them.
public struct Plan: Sendable, Hashable, Codable {
    public var id: String
    /// When it was made (the caller's clock; Core reads none).
    public var createdAt: String
    public var source: Source
    /// Actions in an order that respects `dependsOn`; no-ops included, so renderers can count unchanged resources.
    public var actions: [Action]
    /// Per resource the plan touches (has a change action for): a digest of what was observed when planning. A
    /// saved plan is stale for a resource whose fingerprint changed; changes to untouched resources do not matter.
    public var fingerprints: [ResourceID: String]
    /// Owned resources no manifest declares. They become delete actions only with `--prune`.
    public var orphans: [ResourceID]
    /// Problems found while planning (a disk shrink, an unreachable member): the plan is not applyable when any is an error.
    public var diagnostics: [Diagnostic]
    /// Kinds whose ownership lives only in state, when there was no state to read (CI without `--state`).
    public var ownershipUnknown: [ResourceKind]

    public struct Source: Sendable, Hashable, Codable {
        public var paths: [String]
        public var gitCommit: String?
        /// The commit's author e-mail, for plans a controller makes from a git remote (four-eyes: its author may not
        /// approve it).
        public var gitAuthor: String?
        /// SHA-256 of the desired resources, canonical form.
        public var manifestDigest: String

        public init(paths: [String], gitCommit: String? = nil, gitAuthor: String? = nil, manifestDigest: String) {
            self.paths = paths
            self.gitCommit = gitCommit
            self.gitAuthor = gitAuthor
            self.manifestDigest = manifestDigest
        }
    }

    public init(
        id: String,
        createdAt: String,
        source: Source,
        actions: [Action],
        fingerprints: [ResourceID: String] = [:],
        orphans: [ResourceID] = [],
        diagnostics: [Diagnostic] = [],
        ownershipUnknown: [ResourceKind] = []
    ) {
        self.id = id
        self.createdAt = createdAt
        self.source = source
        self.actions = actions
        self.fingerprints = fingerprints
        self.orphans = orphans
        self.diagnostics = diagnostics
        self.ownershipUnknown = ownershipUnknown
    }

    /// Actions that change something.
    public var changes: [Action] { actions.filter(\.isChange) }
    /// True when nothing would change.
    public var isEmpty: Bool { changes.isEmpty }
    /// False when a planning diagnostic is an error.
    public var isApplyable: Bool { !diagnostics.hasErrors }
    public func action(_ id: ActionID) -> Action? { actions.first { $0.id == id } }
}
