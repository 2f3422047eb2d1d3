import Foundation

/// `pve-sim --guest-hook CMD`: on every lifecycle event of a guest (start, shutdown, stop, reboot, destroy, migrate,
/// resume) pve-sim runs `CMD EVENT` with a JSON document on stdin — the event, the guest (VMID, type, node, name, its
/// config with pending values applied) and the template it was cloned from (`clonedFrom`: VMID and name, or null) — and
/// the task ends only when the hook has. A hook that fails (exit status not 0, or over its time limit) fails the task
/// in PVE's form, `TASK ERROR: …` with the hook's last line of output, and the event's effect does not happen. The
/// lab's hook turns a running guest into a lab host.
public struct GuestHook: Sendable {
    public var command: String
    public var timeout: Duration

    public init(command: String, timeout: Duration = .seconds(300)) {
        self.command = command
        self.timeout = timeout
    }

    /// The lifecycle event a task is, from its type (`qmstart`, `vzshutdown` …); nil for other tasks. A create that
    /// starts the guest is a start.
    static func event(of task: SimTask) -> String? {
        let action = task.type.hasPrefix("qm") || task.type.hasPrefix("vz") ? String(task.type.dropFirst(2)) : task.type
        switch action {
        case "start", "shutdown", "stop", "reboot", "destroy", "resume": return action
        case "igrate", "migrate": return "migrate"
        case "create":
            if case .create(_, let start) = task.effect, start { return "start" }
            return nil
        default: return nil
        }
    }

    /// Runs the hook for one event; nil when it succeeded, else the task's error text. Its output goes to a file of
    /// its own (read once it has ended: no pipe to drain), and a hook over its time limit is ended.
    func run(event: String, document: Data) async -> String? {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("pve-sim-hook-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command)
        process.arguments = [event]
        let input = Pipe()
        process.standardInput = input
        guard let sink = try? FileHandle(forWritingTo: log) else {
            return "cannot write the guest hook's log \(log.path)"
        }
        process.standardOutput = sink
        process.standardError = sink
        var note = ""
        let status: Int32? = await withCheckedContinuation { continuation in
            let once = Once(continuation)
            process.terminationHandler = { p in
                once.resume(p.terminationReason == .uncaughtSignal ? -p.terminationStatus : p.terminationStatus)
            }
            do { try process.run() } catch {
                note = "cannot run the guest hook \(command): \(error)"
                once.resume(nil)
                return
            }
            input.fileHandleForWriting.write(document)
            try? input.fileHandleForWriting.close()
            DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(Int(timeout.components.seconds))) {
                if process.isRunning { process.terminate() }
            }
        }
        try? sink.close()
        if status == 0 { return nil }
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        if !note.isEmpty { return note }
        if status == -SIGTERM {
            return "guest hook \(command) \(event) timed out after \(timeout.components.seconds) s"
        }
        return text.split(separator: "\n").last(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }).map(
            String.init
        )
            ?? "guest hook \(command) \(event) "
            + (status.map { $0 < 0 ? "was killed by signal \(-$0)" : "exited with status \($0)" } ?? "did not run")
    }

    final class Once: @unchecked Sendable {
        private let lock = NSLock()
        private var continuation: CheckedContinuation<Int32?, Never>?
        init(_ c: CheckedContinuation<Int32?, Never>) { continuation = c }
        func resume(_ value: Int32?) {
            let c: CheckedContinuation<Int32?, Never>? = lock.withLock {
                defer { continuation = nil }
                return continuation
            }
            c?.resume(returning: value)
        }
    }
}
