/// One record of the append-only audit log: numbered by `seq` (1, 2, 3 …) and chained by the SHA-256 of the
/// record before it, so an edit, a removal or a reordering is detected by `AuditChain.verify`.
public struct AuditRecord: Sendable, Hashable, Codable {
    public var seq: Int64
    public var entry: AuditEntry
    /// The previous record's `hash`; empty for the first record.
    public var previousHash: String
    /// `sha256:<hex>` of seq, previousHash and the entry's canonical JSON.
    public var hash: String

    public init(seq: Int64, entry: AuditEntry, previousHash: String, hash: String) {
        self.seq = seq
        self.entry = entry
        self.previousHash = previousHash
        self.hash = hash
    }

    /// Chains an entry after the record with `previousHash` (empty for the first).
    public static func chained(_ entry: AuditEntry, seq: Int64, previousHash: String) -> AuditRecord {
        AuditRecord(
            seq: seq,
            entry: entry,
            previousHash: previousHash,
            hash: hash(seq: seq, entry: entry, previousHash: previousHash)
        )
    }

    public static func hash(seq: Int64, entry: AuditEntry, previousHash: String) -> String {
        let body = "setpoint-audit/v1\n\(seq)\n\(previousHash)\n" + CanonicalJSON.encode(entry.canonical)
        return "sha256:" + SHA256.hex(body)
    }
}

/// A point of the chain: a record's seq and hash (seq 0 and an empty hash before the first record).
public struct AuditHead: Sendable, Hashable, Codable, CustomStringConvertible {
    public var seq: Int64
    public var hash: String

    public init(seq: Int64, hash: String) {
        self.seq = seq
        self.hash = hash
    }

    public static let start = AuditHead(seq: 0, hash: "")

    public var description: String { seq == 0 ? "the start" : "seq \(seq) \(hash)" }
}

/// Verifies an audit log read in `seq` order.
public enum AuditChain {
    public enum Verification: Sendable, Equatable {
        case intact(records: Int)
        /// The first problem found: the record's seq and what is wrong with it.
        case broken(seq: Int64, problem: String)
    }

    /// A break an `audit-break` record acknowledges: where, what was wrong, and who said why.
    public struct AcknowledgedBreak: Sendable, Equatable {
        public var seq: Int64
        public var problem: String
        public var acknowledgedIn: Int64
        public var actor: String
        public var reason: String
    }

    /// Verifies the whole chain, strictly: the first edit, removal or reordering is reported.
    public static func verify(_ records: [AuditRecord]) -> Verification {
        verify(records, after: .start, acknowledging: false).verification
    }

    /// The detail of an `audit-break` record acknowledging the break at `record`: where, the record's content as it
    /// is now (`brokenHash`: a later, different edit of it is not covered), the problem and the reason, signed with
    /// `key` when one is given (the audit anchor's key): without the key nobody can forge an acknowledgment.
    public static func acknowledgment(of record: AuditRecord, problem: String, reason: String, key: [UInt8]?) -> Value {
        let content = AuditRecord.hash(seq: record.seq, entry: record.entry, previousHash: record.previousHash)
        var detail: [String: Value] = [
            "brokenAt": .int(record.seq), "brokenHash": .string(content), "problem": .string(problem),
            "reason": .string(reason),
        ]
        if let key {
            detail["signature"] = .string(
                HMACSHA256.hex(Array(acknowledgedText(record.seq, content, reason).utf8), key: key)
            )
        }
        return .map(detail)
    }

    static func acknowledgedText(_ seq: Int64, _ content: String, _ reason: String) -> String {
        "setpoint-audit-break/v1\n\(seq)\n\(content)\n\(reason)"
    }

    /// True when `ack` acknowledges the break at `record` as it is now, and — with a key — was signed with it.
    static func acknowledges(_ ack: AuditRecord, _ record: AuditRecord, key: [UInt8]?) -> Bool {
        guard ack.seq > record.seq, case .map(let m) = ack.entry.detail, m["brokenAt"]?.intValue == record.seq,
            let content = m["brokenHash"]?.stringValue,
            content == AuditRecord.hash(seq: record.seq, entry: record.entry, previousHash: record.previousHash)
        else { return false }
        guard let key else { return true }
        let expected = HMACSHA256.hex(
            Array(acknowledgedText(record.seq, content, m["reason"]?.stringValue ?? "").utf8),
            key: key
        )
        return HMACSHA256.constantTimeEquals(m["signature"]?.stringValue ?? "", expected)
    }

    /// Verifies `records`, which follow `head` (the records after a point already checked, or after an anchor).
    /// With `acknowledging`, a break that a later `audit-break` record acknowledges — for the record as it is now, and
    /// signed with `key` when one is given — is accepted and the walk resumes after it; every such break is returned.
    public static func verify(
        _ records: [AuditRecord],
        after head: AuditHead,
        acknowledging: Bool,
        key: [UInt8]? = nil
    )
        -> (verification: Verification, acknowledged: [AcknowledgedBreak], head: AuditHead)
    {
        var acknowledgments: [Int64: [AuditRecord]] = [:]
        if acknowledging {
            for r in records where r.entry.event == .auditBreak {
                if case .map(let m) = r.entry.detail, let at = m["brokenAt"]?.intValue {
                    acknowledgments[at, default: []].append(r)
                }
            }
        }
        var previousHash = head.hash
        var expectedSeq = head.seq + 1
        var accepted: [AcknowledgedBreak] = []
        var last = head
        for record in records {
            var problem: String?
            if record.seq != expectedSeq {
                problem =
                    record.seq > expectedSeq
                    ? "record \(expectedSeq)\(record.seq - expectedSeq > 1 ? "–\(record.seq - 1)" : "") was removed (seq jumps from \(expectedSeq - 1) to \(record.seq))"
                    : "record \(record.seq) is out of order (expected \(expectedSeq))"
            } else if record.previousHash != previousHash {
                problem =
                    "record \(record.seq) does not follow record \(record.seq - 1): the chain was reordered or a record replaced"
            } else if AuditRecord.hash(seq: record.seq, entry: record.entry, previousHash: record.previousHash)
                != record.hash
            {
                problem = "record \(record.seq) was edited: its content does not match its hash"
            }
            if let problem {
                guard let ack = acknowledgments[record.seq]?.first(where: { acknowledges($0, record, key: key) }) else {
                    return (.broken(seq: record.seq, problem: problem), accepted, last)
                }
                var reason = ""
                if case .map(let m) = ack.entry.detail { reason = m["reason"]?.stringValue ?? "" }
                accepted.append(
                    AcknowledgedBreak(
                        seq: record.seq,
                        problem: problem,
                        acknowledgedIn: ack.seq,
                        actor: ack.entry.actor,
                        reason: reason
                    )
                )
            }
            previousHash = record.hash
            expectedSeq = record.seq + 1
            last = AuditHead(seq: record.seq, hash: record.hash)
        }
        return (.intact(records: records.count), accepted, last)
    }
}
