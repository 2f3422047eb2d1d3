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
        AuditRecord(seq: seq, entry: entry, previousHash: previousHash, hash: hash(seq: seq, entry: entry, previousHash: previousHash))
    }

    public static func hash(seq: Int64, entry: AuditEntry, previousHash: String) -> String {
        let body = "setpoint-audit/v1\n\(seq)\n\(previousHash)\n" + CanonicalJSON.encode(entry.canonical)
        return "sha256:" + SHA256.hex(body)
    }
}

/// Verifies an audit log read in `seq` order.
public enum AuditChain {
    public enum Verification: Sendable, Equatable {
        case intact(records: Int)
        /// The first problem found: the record's seq and what is wrong with it.
        case broken(seq: Int64, problem: String)
    }

    public static func verify(_ records: [AuditRecord]) -> Verification {
        var previousHash = ""
        var expectedSeq: Int64 = 1
        for record in records {
            if record.seq != expectedSeq {
                let problem = record.seq > expectedSeq
                    ? "record \(expectedSeq)\(record.seq - expectedSeq > 1 ? "–\(record.seq - 1)" : "") was removed (seq jumps from \(expectedSeq - 1) to \(record.seq))"
                    : "record \(record.seq) is out of order (expected \(expectedSeq))"
                return .broken(seq: record.seq, problem: problem)
            }
            if record.previousHash != previousHash {
                return .broken(seq: record.seq, problem: "record \(record.seq) does not follow record \(record.seq - 1): the chain was reordered or a record replaced")
            }
            if AuditRecord.hash(seq: record.seq, entry: record.entry, previousHash: record.previousHash) != record.hash {
                return .broken(seq: record.seq, problem: "record \(record.seq) was edited: its content does not match its hash")
            }
            previousHash = record.hash
            expectedSeq += 1
        }
        return .intact(records: records.count)
    }
}
