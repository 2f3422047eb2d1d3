import Foundation
import SetpointCore
import Synchronization

/// A provider whose "system" is memory: for engine and CLI tests, and as the reference of the provider contract.
///
/// It serves any kinds given, honours their field policies (computed fields filled in, write-only and secret
/// values never shown back, restart-impact changes kept pending until a `restart`), can be slowed down and made
/// to fail, and puts every action in a concurrency domain of your choosing.
public struct InMemoryProvider: Provider {
    public let kinds: [ResourceKind]
    public let backend: InMemoryBackend
    public var policies: [ResourceKind: FieldPolicy]
    /// Time each apply takes.
    public var latency: Duration
    /// A failure message for an action, or nil to succeed. A message starting `terminal:` is a terminal error
    /// (`SetpointError.isTerminal`), any other a transient one.
    public var failure: @Sendable (Action) -> String?
    public var domains: @Sendable (Action) -> [ConcurrencyDomain]
    /// Values the system fills in on create (generated MACs …), merged under the desired spec.
    public var computed: @Sendable (ResourceID) -> [String: Value]
    /// Like Proxmox: objects are found only by the id Setpoint knows (from state or a journal), never by name, and a
    /// create reserves its id in the action journal before the object exists.
    public var identifiesByProviderID = false
    /// Time a create takes after the object exists (a task still running): the window a crash leaves behind.
    public var settleLatency: Duration = .zero

    public init(
        kinds: [ResourceKind],
        backend: InMemoryBackend = InMemoryBackend(),
        policies: [ResourceKind: FieldPolicy] = [:],
        latency: Duration = .zero,
        failure: @escaping @Sendable (Action) -> String? = { _ in nil },
        domains: @escaping @Sendable (Action) -> [ConcurrencyDomain] = { _ in [] },
        computed: @escaping @Sendable (ResourceID) -> [String: Value] = { _ in [:] }
    ) {
        self.kinds = kinds
        self.backend = backend
        self.policies = policies
        self.latency = latency
        self.failure = failure
        self.domains = domains
        self.computed = computed
    }

    public func fieldPolicy(for kind: ResourceKind) -> FieldPolicy { policies[kind] ?? FieldPolicy() }

    public func concurrencyDomains(for action: Action) -> [ConcurrencyDomain] { domains(action) }

    public func observe(
        _ resources: [ResolvedResource],
        in context: ProviderContext
    ) async throws -> [ResourceID: Observation] {
        backend.countObserveCall()
        var out: [ResourceID: Observation] = [:]
        for r in resources {
            let byID = identifiesByProviderID && (KindRegistry.definition(for: r.id.kind)?.isManaged ?? true)
            guard let entry = backend.entry(r.id), !byID || entry.providerID == r.providerID else {
                out[r.id] = .absent
                continue
            }
            out[r.id] = .present(
                ObservedResource(
                    spec: visible(entry.spec, kind: r.id.kind),
                    providerID: entry.providerID,
                    pending: entry.pending.isEmpty ? nil : .map(entry.pending)
                )
            )
        }
        return out
    }

    public func apply(
        _ action: Action,
        resource: ResolvedResource?,
        in context: ProviderContext
    ) async throws -> Observation {
        backend.enter(action.id.description)
        defer { backend.leave(action.id.description) }
        if latency > .zero { try await context.clock.sleep(for: latency) }
        if let message = failure(action) {
            let terminal = message.hasPrefix("terminal:")
            throw SetpointError(
                .applyFailed,
                message,
                resource: action.resource,
                isTransient: !terminal,
                isTerminal: terminal
            )
        }
        let policy = fieldPolicy(for: action.resource.kind)
        switch action.verb {
        case .create, .replace:
            var spec = action.desired ?? .map([:])
            for (k, v) in computed(action.resource) where spec[k] == nil { spec = spec.setting([k], to: v) }
            if identifiesByProviderID {
                // Reserve the id and journal it before the object exists; a resumed create reuses it.
                let reserved = try await context.journal.entries()["providerID"] ?? backend.reserveID()
                try await context.journal.record("providerID", reserved)
                if backend.entry(action.resource)?.providerID != reserved {
                    backend.create(action.resource, spec: spec, providerID: reserved)
                }
                if settleLatency > .zero { try await context.clock.sleep(for: settleLatency) }
                let found =
                    resource.map { ResolvedResource(resource: $0.resource, providerID: reserved) }
                    ?? .orphan(action.resource, providerID: reserved)
                return try await observe([found], in: context)[action.resource] ?? .absent
            }
            backend.create(action.resource, spec: spec)
        case .delete:
            backend.remove(action.resource)
        case .restart:
            backend.update(action.resource) { entry in
                for (k, v) in entry.pending { entry.spec = entry.spec.setting([k], to: v) }
                entry.pending = [:]
            }
        default:
            backend.update(action.resource) { entry in
                for change in action.changes {
                    let keys = change.path.components.compactMap { c -> String? in
                        if case .key(let k) = c { k } else { nil }
                    }
                    if change.impact == .restart && policy.stagesRestarts, keys.count == 1, let after = change.after {
                        entry.pending[keys[0]] = after
                    } else if let after = change.after {
                        entry.spec = entry.spec.setting(keys, to: after)
                    } else {
                        entry.spec = entry.spec.removing(keys)
                    }
                }
            }
        }
        return try await observe(resource.map { [$0] } ?? [], in: context)[action.resource] ?? .absent
    }

    /// What the system shows: no secrets, no write-only fields.
    func visible(_ spec: Value, kind: ResourceKind) -> Value {
        let policy = fieldPolicy(for: kind)
        func strip(_ v: Value, _ path: FieldPath) -> Value? {
            if case .secret = v { return nil }
            if !path.components.isEmpty, policy.rule(for: path)?.comparison == .writeOnly { return nil }
            guard case .map(let m) = v else { return v }
            var out: [String: Value] = [:]
            for (k, child) in m { if let s = strip(child, path.appending(k)) { out[k] = s } }
            return .map(out)
        }
        return strip(spec, FieldPath()) ?? .map([:])
    }
}

/// The in-memory system behind `InMemoryProvider`: objects, drift made behind Setpoint's back, and counters.
public final class InMemoryBackend: Sendable {
    public struct Entry: Sendable, Equatable {
        public var spec: Value
        public var providerID: String
        public var pending: [String: Value]
    }

    struct Store {
        var entries: [ResourceID: Entry] = [:]
        var nextID = 100
        var creates: [ResourceID: Int] = [:]
        var applies: [String] = []
        var observeCalls = 0
        var inFlight = 0
        var maxInFlight = 0
        var inFlightByAction: Set<String> = []
    }

    private let store = Mutex(Store())
    /// When set, the backend is loaded from and saved to this file, so that it outlives a process (kill -9 tests).
    private let file: String?

    public init() { file = nil }

    /// A backend persisted in `file` (JSON), loaded if it exists.
    public init(file: String) {
        self.file = file
        if let data = FileManager.default.contents(atPath: file),
            let saved = try? JSONDecoder().decode(Persisted.self, from: data)
        {
            store.withLock { s in
                s.entries = Dictionary(
                    uniqueKeysWithValues: saved.entries.map {
                        ($0.id, Entry(spec: $0.spec, providerID: $0.providerID, pending: $0.pending))
                    }
                )
                s.nextID = saved.nextID
                s.creates = Dictionary(uniqueKeysWithValues: saved.creates.map { ($0.id, $0.count) })
            }
        }
    }

    struct Persisted: Codable {
        struct E: Codable {
            var id: ResourceID
            var spec: Value
            var providerID: String
            var pending: [String: Value]
        }
        struct C: Codable {
            var id: ResourceID
            var count: Int
        }
        var entries: [E]
        var nextID: Int
        var creates: [C]
    }

    /// Writes the backend to its file (atomically) while the lock is held.
    private func persist(_ s: Store) {
        guard let file else { return }
        let p = Persisted(
            entries: s.entries.map {
                .init(id: $0.key, spec: $0.value.spec, providerID: $0.value.providerID, pending: $0.value.pending)
            },
            nextID: s.nextID,
            creates: s.creates.map { .init(id: $0.key, count: $0.value) }
        )
        if let data = try? JSONEncoder().encode(p) { try? data.write(to: URL(fileURLWithPath: file), options: .atomic) }
    }

    /// A new id, never handed out before.
    public func reserveID() -> String {
        store.withLock { s in
            s.nextID += 1
            persist(s)
            return String(s.nextID)
        }
    }

    public func entry(_ id: ResourceID) -> Entry? { store.withLock { $0.entries[id] } }

    /// Sets an object's spec directly, as someone working behind Setpoint's back would.
    public func set(_ id: ResourceID, spec: Value, providerID: String? = nil) {
        store.withLock { s in
            let pid =
                providerID ?? s.entries[id]?.providerID
                ?? {
                    s.nextID += 1
                    return String(s.nextID)
                }()
            s.entries[id] = Entry(spec: spec, providerID: pid, pending: s.entries[id]?.pending ?? [:])
            persist(s)
        }
    }

    public func remove(_ id: ResourceID) {
        store.withLock { s in
            s.entries.removeValue(forKey: id)
            persist(s)
        }
    }

    func create(_ id: ResourceID, spec: Value, providerID: String? = nil) {
        store.withLock { s in
            let pid =
                providerID
                ?? {
                    s.nextID += 1
                    return String(s.nextID)
                }()
            s.entries[id] = Entry(spec: spec, providerID: pid, pending: [:])
            s.creates[id, default: 0] += 1
            persist(s)
        }
    }

    func update(_ id: ResourceID, _ body: (inout Entry) -> Void) {
        store.withLock { s in
            guard var e = s.entries[id] else { return }
            body(&e)
            s.entries[id] = e
            persist(s)
        }
    }

    func enter(_ actionID: String) {
        store.withLock { s in
            s.applies.append(actionID)
            s.inFlight += 1
            s.maxInFlight = max(s.maxInFlight, s.inFlight)
        }
    }

    func leave(_ actionID: String) { store.withLock { $0.inFlight -= 1 } }
    func countObserveCall() { store.withLock { $0.observeCalls += 1 } }

    /// How often each resource was created.
    public var creates: [ResourceID: Int] { store.withLock { $0.creates } }
    /// Action ids in the order apply calls started.
    public var applies: [String] { store.withLock { $0.applies } }
    /// The most apply calls that ran at once.
    public var maxInFlight: Int { store.withLock { $0.maxInFlight } }
    public var observeCalls: Int { store.withLock { $0.observeCalls } }
    public var ids: [ResourceID] { store.withLock { Array($0.entries.keys) }.sorted() }
}
