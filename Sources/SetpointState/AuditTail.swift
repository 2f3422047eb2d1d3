public import SetpointCore
import Synchronization

/// What a store checks before it appends to its audit log: the chain from the point last verified — the record this
/// process appended or checked last, else the anchor's point, else the start — to the head is intact (acknowledged
/// breaks aside), and no record this process saw, or the anchor names, has gone. An apply never appends to, and so
/// never acts on, a state whose log was tampered with.
public final class AuditTail: Sendable {
    private let state = Mutex<(verified: AuditHead?, anchor: AuditAnchor?)>((nil, nil))

    public init() {}

    /// The anchor appends move and checks start from (nil: none).
    public var anchor: AuditAnchor? {
        get { state.withLock { $0.anchor } }
        set { state.withLock { $0.anchor = newValue } }
    }

    /// Where a check starts from.
    enum Origin { case remembered, anchor, start }

    /// Where checking starts: the last head this process verified, else the anchor's point, else the start.
    func start() throws -> (head: AuditHead, origin: Origin) {
        let (verified, anchor) = state.withLock { ($0.verified, $0.anchor) }
        if let verified { return (verified, .remembered) }
        if let point = try anchor?.read() { return (point.head, .anchor) }
        return (.start, .start)
    }

    /// Checks `records` (every record after `start`, in seq order) and, for a start past 0, `atStart` (the record stored
    /// at its seq); remembers the head. Returns false — check again from a new ``start()`` — when the check from the
    /// point this process remembered failed: another process may have recorded a break since and moved the anchor.
    ///
    /// A store runs it at most twice, with the records it fetched inside its append's transaction:
    /// ```swift
    /// for _ in 0..<2 {
    ///     let (start, origin) = try tail.start()
    ///     if try tail.check(start: start, origin: origin, atStart: record(start.seq), records: records(after: start.seq), location: path) { break }
    /// }
    /// ```
    /// - Throws: `SetpointError(.stateFailed, …)` naming the problem and how to repair it.
    func check(
        start: AuditHead,
        origin: Origin,
        atStart: AuditRecord?,
        records: [AuditRecord],
        location: String
    ) throws -> Bool {
        do {
            try verify(start: start, origin: origin, atStart: atStart, records: records, location: location)
            return true
        } catch  where origin == .remembered {
            reset()
            return false
        }
    }

    private func verify(
        start: AuditHead,
        origin: Origin,
        atStart: AuditRecord?,
        records: [AuditRecord],
        location: String
    ) throws {
        if start.seq > 0 {
            let what = origin == .anchor ? "the audit anchor (\(anchor?.path ?? "")) names" : "this process saw"
            guard let atStart else {
                let head = records.last?.seq ?? 0
                throw refusal(
                    location,
                    "\(what) record \(start.seq), but the log ends at seq \(head): records were removed from its end"
                )
            }
            let selfHash = AuditRecord.hash(seq: atStart.seq, entry: atStart.entry, previousHash: atStart.previousHash)
            guard atStart.hash == start.hash, selfHash == atStart.hash else {
                throw refusal(location, "record \(start.seq) is not the one \(what): the log was rewritten")
            }
        }
        let result = AuditChain.verify(records, after: start, acknowledging: true, key: anchor?.key)
        if case .broken(_, let problem) = result.verification { throw refusal(location, problem) }
        state.withLock { $0.verified = result.head }
    }

    /// After an append committed: the new head, and the anchor moved to it. A failure to move the anchor does not
    /// undo the append (it is committed): it is kept in ``anchorProblem`` (callers warn), and the next append tries again.
    func appended(_ record: AuditRecord, location: String) {
        state.withLock { $0.verified = AuditHead(seq: record.seq, hash: record.hash) }
        do {
            try anchor?.advance(to: record, state: location)
            problem.withLock { $0 = nil }
        } catch {
            problem.withLock { $0 = "record \(record.seq) was committed, but \(error)" }
        }
    }

    /// Why the anchor could not be moved with the last append (nil when it was).
    public var anchorProblem: String? { problem.withLock { $0 } }
    private let problem = Mutex<String?>(nil)

    /// Forgets what was verified (after an acknowledgment rewrote the anchor).
    public func reset() { state.withLock { $0.verified = nil } }

    private func refusal(_ location: String, _ problem: String) -> SetpointError {
        SetpointError(
            .stateFailed,
            "refusing to append to the audit log of \(location): \(problem). Nothing was changed. "
                + "'setpoint audit verify' shows the first problem. To repair it, restore the state from a backup (docs/operations.md, "
                + "Restoring), or — once you know what happened — record the break with 'setpoint audit acknowledge --reason \"…\"', "
                + "after which appends go on"
        )
    }
}

/// A store that checks its audit chain before appending and can keep an anchor: the SQLite and PostgreSQL stores.
public protocol AuditTailed: Sendable {
    var tail: AuditTail { get }
}

extension SQLiteStateStore: AuditTailed {}
extension PostgresStateStore: AuditTailed {}
