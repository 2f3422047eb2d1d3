import ArgumentParser
import Foundation
import SetpointCore
import SetpointEngine
import SetpointRender
import SetpointState

/// `setpoint audit log|verify`: read and check the audit log of a state store.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Read and verify the append-only, hash-chained audit log.",
        subcommands: [AuditLogCommand.self, AuditVerifyCommand.self, AuditAcknowledgeCommand.self]
    )
}

struct AuditLogCommand: ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Print audit records: text, or JSON lines (one record per line, for ELK or Loki).",
        discussion: """
            Examples:
              setpoint audit log
              setpoint audit log --after 120 --output json >> shipped.jsonl
            """
    )

    @OptionGroup var stateOptions: StateOptions
    @OptionGroup var outputOptions: OutputOptions

    @Option(name: .long, help: "Only records with a larger seq.")
    var after: Int64 = 0

    func execute(_ console: Console) async throws -> Int32 {
        guard let store = try await stateOptions.openReadOnly(console) else {
            console.err("note: no state at \(stateOptions.location): the audit log is empty\n")
            return 0
        }
        var cursor = after
        while true {
            let page = try await store.auditRecords(after: cursor, limit: 1000)
            guard let last = page.last else { break }
            for record in page {
                console.out(
                    outputOptions.format == .json ? AuditRendering.jsonLine(record) : AuditRendering.text(record)
                )
            }
            cursor = last.seq
        }
        return 0
    }
}

struct AuditVerifyCommand: ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract:
            "Check the audit chain, and with --audit-anchor its tail: names the first record edited, removed or reordered.",
        discussion: """
            The chain shows a record edited, removed or reordered, but not records cut off its end: a shorter chain is still \
            intact. With --audit-anchor FILE (the head every append writes, kept apart from the state) the log must reach the \
            anchor's record, with its hash; without one, verify says the tail cannot be checked. Breaks an operator recorded \
            with 'setpoint audit acknowledge' are listed, not failed.

            Examples:
              setpoint audit verify
              setpoint audit verify --audit-anchor /var/lib/setpoint-anchor/anchor.json --anchor-key file:/etc/setpoint/anchor.key

            Exit codes: 0 intact; 3 the chain is broken, records are missing from its end, or the anchor does not verify; 1 the \
            log cannot be read.
            """
    )

    @OptionGroup var stateOptions: StateOptions

    func execute(_ console: Console) async throws -> Int32 {
        let anchor = try stateOptions.anchor(console)
        let point: AuditAnchor.Point?
        do { point = try anchor?.read() } catch {
            console.err("error: \(error)\n")
            return 3
        }
        guard let store = try await stateOptions.openReadOnly(console) else {
            if let anchor, let point, point.seq > 0 {
                console.err(
                    "error: no state at \(stateOptions.location), but the audit anchor \(anchor.path) (written \(point.time)) says its log "
                        + "held \(point.seq) record\(point.seq == 1 ? "" : "s"): the state was removed or replaced\n"
                )
                return 3
            }
            console.out("no state at \(stateOptions.location): nothing to verify\n")
            return 0
        }
        let records = try await AuditRendering.all(store)
        // With the anchor's key, only acknowledgments signed with it count: nobody without the key can excuse an edit.
        let result = AuditChain.verify(records, after: .start, acknowledging: true, key: anchor?.key)
        if case .broken(let seq, let problem) = result.verification {
            console.err("error: audit log broken at seq \(seq): \(problem)\n")
            return 3
        }
        for b in result.acknowledged {
            console.err(
                "warning: acknowledged break at seq \(b.seq): \(b.problem) (recorded at seq \(b.acknowledgedIn) by \(b.actor): \(b.reason))\n"
            )
        }
        let count = records.count
        console.out(
            "audit log intact: \(count) record\(count == 1 ? "" : "s")\(records.last.map { ", last seq \($0.seq) at \($0.entry.time)" } ?? "")\n"
        )
        if let head = records.last { console.out("head: seq \(head.seq) \(head.hash)\n") }
        return tail(records, anchor: anchor, point: point, console)
    }

    /// The log's end against the anchor.
    func tail(_ records: [AuditRecord], anchor: AuditAnchor?, point: AuditAnchor.Point?, _ console: Console) -> Int32 {
        guard let anchor else {
            console.out(
                "tail: cannot be checked: no audit anchor is configured (--audit-anchor FILE): records cut off the end of the "
                    + "log would go unnoticed\n"
            )
            return 0
        }
        let head = records.last?.seq ?? 0
        guard let point else {
            if records.isEmpty {
                console.out("tail: the audit anchor \(anchor.path) is written with the first record\n")
                return 0
            }
            console.err(
                "error: the audit anchor \(anchor.path) does not exist, although the log has \(records.count) records: the tail "
                    + "cannot be checked (was the anchor removed? 'setpoint audit acknowledge' writes it anew)\n"
            )
            return 3
        }
        if point.seq > head {
            let missing = point.seq - head
            console.err(
                "error: \(missing) record\(missing == 1 ? " is" : "s are") missing from the end of the audit log: it ends at seq \(head), "
                    + "but the audit anchor \(anchor.path) (written \(point.time)) names seq \(point.seq)\n"
            )
            return 3
        }
        if point.seq > 0, records.first(where: { $0.seq == point.seq })?.hash != point.hash {
            console.err(
                "error: record \(point.seq) is not the one the audit anchor \(anchor.path) names: the log was rewritten after it\n"
            )
            return 3
        }
        console.out(
            "tail: matches the audit anchor \(anchor.path) (seq \(point.seq), written \(point.time)\(point.signature == nil ? "" : ", signed"))\n"
        )
        return 0
    }
}

struct AuditAcknowledgeCommand: ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "acknowledge",
        abstract:
            "Record that the audit log is broken, and why, so that appends (and so applies) go on after the break.",
        discussion: """
            An apply refuses to append to a log that no longer verifies. Once you know what happened (a restored backup, an \
            edit, a lost tail), this appends an audit-break record for each break — the record, the problem and your reason — \
            and, with --audit-anchor, moves the anchor to the new head. 'audit verify' then lists the breaks instead of \
            failing. The records themselves are never changed. It takes the apply lease.

            Example:
              setpoint audit acknowledge --reason "state restored from the 2026-12-06 backup (INC-4211)" --as ops@example.net
            """
    )

    @OptionGroup var stateOptions: StateOptions

    @Option(name: .long, help: "Why the break is accepted: recorded in the log.")
    var reason: String

    @Option(name: .customLong("as"), help: ArgumentHelp("Identity recorded in the audit log.", valueName: "IDENTITY"))
    var identity: String?

    func validate() throws {
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ValidationError("--reason must say why the break is accepted")
        }
    }

    func execute(_ console: Console) async throws -> Int32 {
        let store = try await stateOptions.open(console)
        return try await LeaseKeeper.holding(store, timeout: .seconds(5), clock: CLIRuntime.clock) {
            try await acknowledge(store, console)
        }
    }

    func acknowledge(_ store: any StateStore, _ console: Console) async throws -> Int32 {
        let actor = identity ?? AuditTrail.defaultActor
        let anchor = try stateOptions.anchor(console)
        var acknowledged = 0
        for _ in 0..<1000 {
            let records = try await AuditRendering.all(store)
            guard
                case .broken(let seq, let problem) = AuditChain.verify(
                    records,
                    after: .start,
                    acknowledging: true,
                    key: anchor?.key
                ).verification,
                let broken = records.first(where: { $0.seq == seq })
            else { break }
            // The acknowledgment names the record as it is now (a later edit of it is not covered) and, with the anchor's
            // key, is signed: it cannot be forged by someone who can only write the state.
            let detail = AuditChain.acknowledgment(of: broken, problem: problem, reason: reason, key: anchor?.key)
            let record = try await AuditTrail(log: store, actor: actor, clock: CLIRuntime.clock).recordBreak(
                detail: detail
            )
            console.out("acknowledged: seq \(seq): \(problem) (recorded at seq \(record.seq))\n")
            acknowledged += 1
        }
        let records = try await AuditRendering.all(store)
        if let anchor, let tailed = store as? any AuditTailed {
            let head = records.last.map { AuditHead(seq: $0.seq, hash: $0.hash) } ?? .start
            let point = try? anchor.read()
            if point == nil || point!.seq > head.seq
                || records.first(where: { $0.seq == point!.seq })?.hash != point!.hash
            {
                let said = point.map { "seq \($0.seq)" } ?? "no anchor"
                let detail: Value = .map([
                    "anchor": .string(said), "logEnd": .int(head.seq),
                    "problem": .string(
                        "the audit anchor \(anchor.path) said \(said) while the log ends at seq \(head.seq)"
                    ),
                    "reason": .string(reason),
                ])
                let record = try await AuditTrail(log: store, actor: actor, clock: CLIRuntime.clock).recordBreak(
                    detail: detail
                )
                try anchor.reset(to: record, state: stateOptions.location)
                tailed.tail.reset()
                console.out(
                    "acknowledged: the audit anchor said \(said), the log ended at seq \(head.seq); the anchor now names seq \(record.seq)\n"
                )
                acknowledged += 1
            }
        }
        if acknowledged == 0 { console.out("the audit log verifies: nothing to acknowledge\n") }
        return 0
    }
}

/// Text and JSON-lines forms of audit records.
enum AuditRendering {
    /// Every record, in seq order.
    static func all(_ store: any StateStore) async throws -> [AuditRecord] {
        var records: [AuditRecord] = []
        while true {
            let page = try await store.auditRecords(after: records.last?.seq ?? 0, limit: 5000)
            if page.isEmpty { break }
            records += page
        }
        return records
    }

    static func text(_ r: AuditRecord) -> String {
        var parts = ["\(r.seq)", r.entry.time, r.entry.actor, r.entry.event.rawValue]
        if let plan = r.entry.planID { parts.append("plan \(plan)") }
        if let action = r.entry.actionID {
            parts.append(action.description)
        } else if let resource = r.entry.resource {
            parts.append(resource.description)
        }
        if let result = r.entry.result { parts.append(result) }
        var line = parts.joined(separator: "  ")
        if case .map(let m) = r.entry.detail, let error = m["error"]?.stringValue { line += "  error: \(error)" }
        if case .map(let m) = r.entry.detail, case .list(let approved)? = m["approved"] {
            line += "  approved: " + approved.compactMap(\.stringValue).joined(separator: ", ")
        }
        return line + "\n"
    }

    static func jsonLine(_ r: AuditRecord) -> String {
        var fields = r.entry.canonical
        if case .map(var m) = fields {
            m["seq"] = .int(r.seq)
            m["previousHash"] = .string(r.previousHash)
            m["hash"] = .string(r.hash)
            fields = .map(m)
        }
        return CanonicalJSON.encode(fields) + "\n"
    }
}
