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
            throw CommandFailure(command: command, status: nil, output: "",
                                 reason: "must run as \(user), but this process is \(currentUser) and not root: run Setpoint as root or as \(user)")
        }
        return ["/usr/sbin/runuser", "-u", user, "--"] + base
    }

    private var currentUser: String {
        guard let pw = getpwuid(geteuid()) else { return String(geteuid()) }
        return String(cString: pw.pointee.pw_name)
    }

    public func run(_ command: Command, allowFailure: Bool) async throws -> CommandOutput {
        let argv = try argv(command)
        return try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try Self.runBlocking(command, argv: argv, allowFailure: allowFailure) })
            }
            thread.name = "setpoint-exec"
            thread.start()
        }
    }

    private static func runBlocking(_ command: Command, argv: [String], allowFailure: Bool) throws -> CommandOutput {
        let process = Process()
        let executable = argv[0].contains("/") ? argv[0] : "/usr/bin/env"
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = argv[0].contains("/") ? Array(argv.dropFirst()) : argv
        var environment = ProcessInfo.processInfo.environment
        environment.merge(command.environment) { _, b in b }
        process.environment = environment
        if let dir = command.workingDirectory { process.currentDirectoryURL = URL(fileURLWithPath: dir) }
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        let start = ContinuousClock.now
        do { try process.run() } catch {
            throw CommandFailure(command: command, status: nil, output: "", reason: "could not start: \(error.localizedDescription)")
        }
        if let text = command.input { input.fileHandleForWriting.write(Data(text.utf8)) }
        try? input.fileHandleForWriting.close()
        let errBox = Box()
        let errReader = Thread { errBox.set(err.fileHandleForReading.readDataToEndOfFile()) }
        errReader.start()
        let timedOut = Box()
        if let timeout = command.timeout {
            let pid = process.processIdentifier
            let watchdog = Thread {
                let deadline = ContinuousClock.now + timeout
                while ContinuousClock.now < deadline {
                    if !process.isRunning { return }
                    Thread.sleep(forTimeInterval: 0.05)
                }
                if process.isRunning {
                    timedOut.set(Data([1]))
                    kill(pid, SIGKILL)
                }
            }
            watchdog.start()
        }
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let stderr = String(decoding: errBox.wait(), as: UTF8.self)
        let result = CommandOutput(status: process.terminationStatus, stdout: stdout, stderr: stderr, duration: ContinuousClock.now - start)
        if timedOut.peek() != nil {
            throw CommandFailure(command: command, status: nil, output: stderr + stdout, reason: "timed out after \(command.timeout!) and was killed")
        }
        if result.status != 0 && !allowFailure {
            throw CommandFailure(command: command, status: result.status, output: stderr.isEmpty ? stdout : stderr,
                                 reason: "exited with status \(result.status)")
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
