/// A per-action record a provider writes durably **before** a remote call (a reserved VMID, a task UPID, a backup
/// label) and gets back after a crash, so an interrupted action resumes instead of repeating.
///
/// Keys are the provider's own; the journal of an action is cleared once the action's outcome is recorded.
public protocol ActionJournal: Sendable {
    /// What this action's journal already holds (from an earlier, interrupted run), or empty.
    func entries() async throws -> [String: String]
    /// Records a value durably; returns once it is on disk.
    func record(_ key: String, _ value: String) async throws
}

/// A journal that keeps nothing (plan-only runs, tests that do not care).
public struct NoJournal: ActionJournal {
    public init() {}
    public func entries() async throws -> [String: String] { [:] }
    public func record(_ key: String, _ value: String) async throws {}
}
