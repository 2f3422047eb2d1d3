import ArgumentParser
import Foundation
import SetpointCore
import SetpointRender
import SetpointState

/// `setpoint audit log|verify`: read and check the audit log of a state store.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Read and verify the append-only, hash-chained audit log.",
        subcommands: [AuditLogCommand.self, AuditVerifyCommand.self]
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
                console.out(outputOptions.format == .json ? AuditRendering.jsonLine(record) : AuditRendering.text(record))
            }
            cursor = last.seq
        }
        return 0
    }
}

struct AuditVerifyCommand: ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the audit chain: names the first record edited, removed or reordered.",
        discussion: "Exit codes: 0 intact; 3 the chain is broken; 1 the log cannot be read."
    )

    @OptionGroup var stateOptions: StateOptions

    func execute(_ console: Console) async throws -> Int32 {
        guard let store = try await stateOptions.openReadOnly(console) else {
            console.out("no state at \(stateOptions.location): nothing to verify\n")
            return 0
        }
        var records: [AuditRecord] = []
        while true {
            let page = try await store.auditRecords(after: records.last?.seq ?? 0, limit: 5000)
            if page.isEmpty { break }
            records += page
        }
        switch AuditChain.verify(records) {
        case .intact(let count):
            console.out("audit log intact: \(count) record\(count == 1 ? "" : "s")\(records.last.map { ", last seq \($0.seq) at \($0.entry.time)" } ?? "")\n")
            if let head = records.last {
                // Records removed from the end leave an intact chain: compare this head with one kept elsewhere.
                console.out("head: seq \(head.seq) \(head.hash)\n")
            }
            return 0
        case .broken(let seq, let problem):
            console.err("error: audit log broken at seq \(seq): \(problem)\n")
            return 3
        }
    }
}

/// Text and JSON-lines forms of audit records.
enum AuditRendering {
    static func text(_ r: AuditRecord) -> String {
        var parts = ["\(r.seq)", r.entry.time, r.entry.actor, r.entry.event.rawValue]
        if let plan = r.entry.planID { parts.append("plan \(plan)") }
        if let action = r.entry.actionID { parts.append(action) } else if let resource = r.entry.resource { parts.append(resource.description) }
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
