import Foundation
import SetpointExec

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

    /// Runs the hook for one event; nil when it succeeded, else the task's error text. posix_spawn with only its own
    /// descriptors and `waitpid` on a thread of its own, not Foundation's Process: a hook that starts daemons (the lab's
    /// sshd) would hand them what Process watches for the end, and the task would wait for the daemons. The document
    /// is its stdin from a file, its output goes to a file: no pipe to drain. Over its time limit it is ended.
    func run(event: String, document: Data) async -> String? {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pve-sim-hook-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try document.write(to: folder.appendingPathComponent("stdin.json"))
        } catch { return "cannot write the guest hook's input in \(folder.path): \(error)" }
        let log = folder.appendingPathComponent("output.log").path
        let pid: pid_t
        do {
            pid = try Spawn.start(
                Spawn.Request(
                    argv: [command, event],
                    environment: ProcessInfo.processInfo.environment,
                    stdin: .file(folder.appendingPathComponent("stdin.json").path),
                    stdout: .file(log),
                    stderr: .file(log, append: true),
                    newProcessGroup: true
                )
            )
        } catch { return "cannot run the guest hook \(command): \(error)" }
        let seconds = Int(timeout.components.seconds)
        let status: Int32 = await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var raw: Int32 = 0
                while waitpid(pid, &raw, 0) == -1 && errno == EINTR {}
                continuation.resume(returning: raw)
            }
            DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(seconds)) {
                // Still there (not reaped: its PID is still its own): end it and what it started in its group.
                if kill(pid, 0) == 0 { kill(-pid, SIGKILL) }
            }
        }
        let signalled = status & 0x7f != 0
        if !signalled && Spawn.exitStatus(status) == 0 { return nil }
        if signalled && status & 0x7f == SIGKILL {
            return "guest hook \(command) \(event) timed out after \(seconds) s"
        }
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").last(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }).map(
            String.init
        )
            ?? "guest hook \(command) \(event) "
            + (signalled ? "was killed by signal \(status & 0x7f)" : "exited with status \(Spawn.exitStatus(status))")
    }
}
