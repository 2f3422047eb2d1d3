/// A provider owns one family of kinds and knows nothing of the CLI, the controller or other providers.
///
/// Contract (Crossplane's): `observe` never changes anything; `apply` is idempotent — applying an action whose
/// effect is already there succeeds — and returns what it observes afterwards.
public protocol Provider: Sendable {
    /// The kinds this provider serves; the registry refuses two providers for one kind.
    var kinds: [ResourceKind] { get }

    /// Observes many resources at once: one bulk call where the API allows it.
    func observe(_ resources: [ResolvedResource], in context: ProviderContext) async throws -> [ResourceID: Observation]

    /// How each field of a kind compares and what changing it does.
    func fieldPolicy(for kind: ResourceKind) -> FieldPolicy

    /// The lock domains an action occupies (a PVE node, a storage, a PG cluster).
    func concurrencyDomains(for action: Action) -> [ConcurrencyDomain]

    /// Carries out one action. The engine confirms it by observing again, so the result need only carry the object's
    /// id (`.present(ObservedResource(spec: .map([:]), providerID: id))`; `.absent` after a delete).
    func apply(_ action: Action, resource: ResolvedResource?, in context: ProviderContext) async throws -> Observation

    /// Finds an existing object for `setpoint import` (see the default below).
    func lookup(_ resource: Resource, id: String?, in context: ProviderContext) async throws -> Observation
}

extension Provider {
    public func concurrencyDomains(for action: Action) -> [ConcurrencyDomain] { [] }

    /// Finds an existing object for `setpoint import`: by `id` (a VMID) when given, else however the provider can
    /// (by name). The default observes the resource as if Setpoint knew that id.
    public func lookup(_ resource: Resource, id: String?, in context: ProviderContext) async throws -> Observation {
        try await observe([ResolvedResource(resource: resource, providerID: id)], in: context)[resource.id] ?? .absent
    }
}

/// A desired resource as a provider receives it: the manifest resource plus what state knows of it.
public struct ResolvedResource: Sendable {
    public var resource: Resource
    /// The provider's id from state, when Setpoint owns the object.
    public var providerID: String?
    /// The spec last applied, from state (write-only values as fingerprints): what a provider needs to undo
    /// something the manifest no longer declares (a removed member's data directory and port).
    public var lastApplied: Value?

    public init(resource: Resource, providerID: String? = nil, lastApplied: Value? = nil) {
        self.resource = resource
        self.providerID = providerID
        self.lastApplied = lastApplied
    }

    public var id: ResourceID { resource.id }

    /// An owned resource no manifest declares (or whose manifest is not at hand), known by id only.
    public static func orphan(_ id: ResourceID, providerID: String?, lastApplied: Value? = nil) -> ResolvedResource {
        ResolvedResource(resource: .orphan(id), providerID: providerID, lastApplied: lastApplied)
    }
}

/// A lock an action holds while it runs. At most `limit` actions hold the same domain at once.
public struct ConcurrencyDomain: Sendable, Hashable, Codable, CustomStringConvertible {
    public var name: String
    public var limit: Int

    public init(_ name: String, limit: Int = 1) {
        self.name = name
        self.limit = limit
    }

    public var description: String { name }
}

/// The providers of a run, one per kind.
public struct ProviderRegistry: Sendable {
    public private(set) var providers: [any Provider] = []
    private var byKind: [ResourceKind: Int] = [:]

    public init() {}

    public init(_ providers: [any Provider]) throws {
        for p in providers { try register(p) }
    }

    /// Adds a provider; throws when one of its kinds already has a provider.
    public mutating func register(_ provider: any Provider) throws {
        for kind in provider.kinds where byKind[kind] != nil {
            throw SetpointError(.duplicateProvider, "two providers for kind \(kind)")
        }
        for kind in provider.kinds { byKind[kind] = providers.count }
        providers.append(provider)
    }

    public func provider(for kind: ResourceKind) -> (any Provider)? { byKind[kind].map { providers[$0] } }

    /// The position in `providers` of the provider for a kind (to group resources by provider).
    public func index(for kind: ResourceKind) -> Int? { byKind[kind] }

    public var kinds: [ResourceKind] { byKind.keys.sorted() }
}
