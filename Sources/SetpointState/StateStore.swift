public import SetpointCore

/// Where Setpoint remembers what it owns: each owned resource and the spec it last applied.
///
/// The state store is the "last applied" leg of the three-way diff: a field that was applied and is
/// now gone from the manifest is removed from the system, and an owned resource missing from the
/// manifests is an orphan. Only what a successful apply established is recorded here.
///
/// Contract for every conformer (in-memory, SQLite, later PostgreSQL; one conformance suite checks them):
/// - **Secrets never go into state.** An ``AppliedResource/spec`` holds fingerprints of write-only
///   values and references to secrets (`{env: NAME}`), never a secret's value; a store keeps the spec
///   exactly as given and adds nothing that could hold one.
/// - **Values round-trip exactly.** What ``recordApplied(_:)`` stored, ``owned(_:)`` returns equal
///   (`==`): nested maps and lists, integers stay integers, doubles stay doubles, `null` stays `null`;
///   `dependsOn` keeps its order.
/// - **Writes are atomic and serialised.** Concurrent writes from several tasks are all kept (no lost
///   update); for two writes of the same resource, the last one to complete wins.
/// - **A read-only store never writes**, not even to create its file or folder, and every write on it
///   throws ``SetpointCore/SetpointError`` with code `stateFailed`. `plan` and CI use read-only stores.
/// - Failures are thrown as ``SetpointCore/SetpointError`` with code `stateFailed`, naming where the
///   state lives and the underlying message.
///
/// ```swift
/// let store = try SQLiteStateStore.open(path: ".setpoint/state.db")
/// try await store.recordApplied(AppliedResource(id: id, providerID: "101", spec: spec, dependsOn: [poolID]))
/// let last = try await store.owned(id)      // the spec just recorded
/// try await store.forget(id)                // after a successful delete
/// ```
public protocol StateStore: AuditLog, ApplyLease, JournalStore, PlanStore, BackupRunStore, HostKeyStore, ConditionStore
{
    /// True when the store was opened for reading only; every write then throws.
    var isReadOnly: Bool { get }

    /// Every owned resource with its last applied spec, keyed by id. Empty when nothing is owned.
    ///
    /// - Throws: `SetpointError(.stateFailed, …)` when the state cannot be read.
    func ownedResources() async throws -> [ResourceID: AppliedResource]

    /// The last applied state of one resource, or nil when Setpoint does not own it.
    ///
    /// - Throws: `SetpointError(.stateFailed, …)` when the state cannot be read.
    func owned(_ id: ResourceID) async throws -> AppliedResource?

    /// Records a resource as owned with the spec just applied, replacing what was recorded for its id
    /// (an upsert). Called after a successful create, update, replace or adoption (`import`).
    ///
    /// - Parameter resource: What was applied; its `spec` is the applied form (write-only values
    ///   already replaced by fingerprints), never a secret's value.
    /// - Throws: `SetpointError(.stateFailed, …)` on a read-only store or when the write fails;
    ///   nothing is recorded then.
    func recordApplied(_ resource: AppliedResource) async throws

    /// Stops owning a resource, after it was deleted. Forgetting a resource that is not owned does nothing.
    ///
    /// - Throws: `SetpointError(.stateFailed, …)` on a read-only store or when the write fails.
    func forget(_ id: ResourceID) async throws
}
