import Foundation

/// Runs commands on this machine. Blocking waits happen on a thread of the command's own, never on Swift's
/// cooperative pool. As root, a command for another user runs through `runuser -u USER --`.
public struct LocalRunner: CommandRunner {
    public init() {}

    /// The argv actually executed: through runuser when the command names a user other than the current one.
    public func argv(_ command: Command) throws -> [String] {
        let base = [command.executable] + command.arguments
        guard let user = command.user, user != currentUser else { return base }
        guard geteuid() == 0 else {
            throw CommandFailure(
                command: command,
                status: nil,
                output: "",
                reason:
                    "must run as \(user), but this process is \(currentUser) and not root: run Setpoint as root or as \(user)"
            )
        }
        return ["/usr/sbin/runuser", "-u", user, "--"] + base
    }

    private var currentUser: String {
        guard let pw = getpwuid(geteuid()) else { return String(geteuid()) }
        return String(cString: pw.pointee.pw_name)
    }

    public func run(_ command: Command, allowFailure: Bool) async throws -> CommandOutput {
        let argv = try argv(command)
        return try await onOwnThread("setpoint-exec") {
            try Self.runBlocking(command, argv: argv, allowFailure: allowFailure)
        }
    }

    /// posix_spawn and waitpid, not Foundation's Process: Process notices the end of a child through a socket the
    /// child inherits, and a daemon the tool starts (pg_ctl start → postmaster) inherits it too, so Process would
    /// wait for the daemon. Output goes to files for the same reason (an inherited pipe never reaches end of file).
    private static func runBlocking(_ command: Command, argv: [String], allowFailure: Bool) throws -> CommandOutput {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
            "setpoint-exec-\(UUID().uuidString)"
        )
        // 0700: the command's input (a password for a tool, a file's text for a host) and output stay this user's.
        try FileManager.default.createDirectory(
            at: scratch,
            withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700]
        )
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outPath = scratch.appendingPathComponent("out").path
        let errPath = scratch.appendingPathComponent("err").path
        let inPath = scratch.appendingPathComponent("in").path
        FileManager.default.createFile(atPath: inPath, contents: Data((command.input ?? "").utf8))

        var environment = ProcessInfo.processInfo.environment
        environment.merge(command.environment) { _, b in b }
        // env(1) changes to the working directory (`-C`) before it runs the tool (Spawn looks a bare name up on PATH the
        // same way).
        let args = command.workingDirectory.map { ["/usr/bin/env", "-C", $0] + argv } ?? argv
        let start = ContinuousClock.now
        let pid: pid_t
        do {
            // A new process group, so a timeout kills the tool and what it started in the foreground; only its three
            // standard streams are open in it.
            pid = try Spawn.start(
                Spawn.Request(
                    argv: args,
                    environment: environment,
                    stdin: .file(inPath),
                    stdout: .file(outPath),
                    stderr: .file(errPath),
                    newProcessGroup: true
                )
            )
        } catch let failure as Spawn.Failure {
            throw CommandFailure(
                command: command,
                status: nil,
                output: "",
                reason: "could not start: \(String(cString: strerror(failure.errno)))"
            )
        }
        let timedOut = Box()
        let finished = Box()
        if let timeout = command.timeout {
            let child = pid
            let watchdog = Thread {
                let deadline = ContinuousClock.now + timeout
                while ContinuousClock.now < deadline {
                    if finished.peek() != nil { return }
                    Thread.sleep(forTimeInterval: 0.05)
                }
                if finished.peek() == nil {
                    timedOut.set(Data([1]))
                    kill(-child, SIGKILL)
                }
            }
            watchdog.start()
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        finished.set(Data([1]))
        let exitStatus = Spawn.exitStatus(status)
        let stdout = String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: outPath))) ?? Data(), as: UTF8.self)
        let stderr = String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: errPath))) ?? Data(), as: UTF8.self)
        let result = CommandOutput(
            status: exitStatus,
            stdout: stdout,
            stderr: stderr,
            duration: ContinuousClock.now - start
        )
        if timedOut.peek() != nil {
            throw CommandFailure(
                command: command,
                status: nil,
                output: stderr + stdout,
                reason: "timed out after \(command.timeout!) and was killed"
            )
        }
        if result.status != 0 && !allowFailure {
            throw CommandFailure(
                command: command,
                status: result.status,
                output: stderr.isEmpty ? stdout : stderr,
                reason: "exited with status \(result.status)"
            )
        }
        return result
    }

    /// A value one thread sets and another waits for.
    private final class Box: @unchecked Sendable {
        private let condition = NSCondition()
        private var data: Data?

        func set(_ value: Data) {
            condition.lock()
            data = value
            condition.broadcast()
            condition.unlock()
        }

        func wait() -> Data {
            condition.lock()
            defer { condition.unlock() }
            while data == nil { condition.wait() }
            return data!
        }

        func peek() -> Data? {
            condition.lock()
            defer { condition.unlock() }
            return data
        }
    }
}

/// Runs blocking work (a child's wait, file I/O) on a thread of its own, never on Swift's cooperative pool.
public func onOwnThread<T: Sendable>(_ name: String, _ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.name = name
        thread.start()
    }
}
