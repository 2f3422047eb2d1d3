public import Foundation
import Glibc
import SetpointExec
import Synchronization

/// A process a test starts: the one way tests run other programs.
///
/// - It gets only its standard streams (``SetpointExec/Spawn``): no pipe of another test stays open in it.
/// - Its output is read, and its end awaited (`waitpid`), by a thread of its own, never on Swift's cooperative pool,
///   which has as many threads as cores (two here): a test blocked there would starve every other test.
/// - While it runs it is recorded in the test run's folder (`$SETPOINT_TEST_RUN_DIR/pids/PID`), so `scripts/test` ends it
///   even when the test process is killed before it could.
///
/// ```swift
/// let sim = try ChildProcess.start([bin + "/pve-sim", "--listen", "127.0.0.1:0"])
/// _ = await sim.output.waitFor("listening")
/// sim.signal(SIGTERM)
/// let status = await sim.exitStatus()
/// ```
public final class ChildProcess: Sendable {
    public enum TerminationReason: Sendable { case exit, uncaughtSignal }

    public let processIdentifier: pid_t
    /// Standard output and error together, in the order they arrived.
    public let output = ProcessOutput()
    public let stdout = ProcessOutput()
    public let stderr = ProcessOutput()
    /// The raw wait status once reaped, and who waits for it.
    private let state = Mutex<(status: Int32?, waiters: [CheckedContinuation<Int32, Never>])>((nil, []))

    private let signalWhen: (text: String, signal: Int32)?

    private init(pid: pid_t, signalWhen: (text: String, signal: Int32)?) {
        processIdentifier = pid
        self.signalWhen = signalWhen
    }

    /// Starts `argv` (a program path, or a name found on PATH). `environment` nil inherits this process's; a given
    /// one is the whole environment, plus PATH when it has none. `input` is written to its standard input, then closed.
    /// `signalWhen` sends a signal the moment the output first holds a text — from the thread that reads it, so a busy
    /// cooperative pool cannot delay it (a test that interrupts a child mid-action).
    public static func start(
        _ argv: [String],
        environment: [String: String]? = nil,
        input: Data? = nil,
        workingDirectory: String? = nil,
        signalWhen: (text: String, signal: Int32)? = nil
    ) throws -> ChildProcess {
        var env = environment ?? ProcessInfo.processInfo.environment
        if env["PATH"] == nil { env["PATH"] = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin" }
        var argv = argv
        if let workingDirectory { argv = ["/usr/bin/env", "-C", workingDirectory] + argv }
        let out = try Spawn.pipe()
        let err = try Spawn.pipe()
        let inPipe = try input.map { _ in try Spawn.pipe() }
        let pid: pid_t
        do {
            pid = try Spawn.start(
                Spawn.Request(
                    argv: argv,
                    environment: env,
                    stdin: inPipe.map { .descriptor($0.read) } ?? .null,
                    stdout: .descriptor(out.write),
                    stderr: .descriptor(err.write)
                )
            )
        } catch {
            for fd in [out.read, out.write, err.read, err.write, inPipe?.read ?? -1, inPipe?.write ?? -1] where fd >= 0
            { close(fd) }
            throw error
        }
        close(out.write)
        close(err.write)
        if let inPipe { close(inPipe.read) }
        let child = ChildProcess(pid: pid, signalWhen: signalWhen)
        let record = PIDRecord(pid: pid, program: argv.first ?? "")
        let thread = Thread {
            child.collect(out: out.read, err: err.read, input: inPipe.map { ($0.write, input ?? Data()) })
            record.remove()
        }
        thread.name = "setpoint-child-\(pid)"
        thread.start()
        return child
    }

    /// Runs `argv` to its end: its exit status and what it wrote.
    public static func run(
        _ argv: [String],
        environment: [String: String]? = nil,
        input: String? = nil,
        workingDirectory: String? = nil
    ) async throws -> (status: Int32, stdout: String, stderr: String) {
        let child = try start(
            argv,
            environment: environment,
            input: input.map { Data($0.utf8) },
            workingDirectory: workingDirectory
        )
        let status = await child.exitStatus()
        return (status, child.stdout.value, child.stderr.value)
    }

    /// The exit status once it ended: its code, or 128 + the signal that ended it.
    public var terminationStatus: Int32 { state.withLock { $0.status }.map(Spawn.exitStatus) ?? -1 }
    /// Whether it exited or a signal ended it (valid once it ended).
    public var terminationReason: TerminationReason {
        (state.withLock { $0.status } ?? 0) & 0x7f == 0 ? .exit : .uncaughtSignal
    }
    public var isRunning: Bool { state.withLock { $0.status == nil } }

    /// Sends a signal (to the process only; what it started has its own). Never to a reused PID: the child is reaped
    /// under the same lock, only after its exit was recorded.
    public func signal(_ signal: Int32) {
        state.withLock { s in if s.status == nil { Glibc.kill(processIdentifier, signal) } }
    }

    public func terminate() { signal(SIGTERM) }

    /// Its exit status, awaited without holding a thread (a continuation the reader thread resumes; not Foundation's
    /// spinning `waitUntilExit`). A cancelled wait (a test's time limit ran out) kills the child, so the wait ends.
    @discardableResult
    public func exitStatus() async -> Int32 {
        let raw = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let done: Int32? = state.withLock { s in
                    if let status = s.status { return status }
                    s.waiters.append(continuation)
                    return nil
                }
                if let done { continuation.resume(returning: done) }
            }
        } onCancel: {
            signal(SIGKILL)
        }
        return Spawn.exitStatus(raw)
    }

    /// Waits at most `timeout`; nil when it still runs then.
    public func exitStatus(within timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        return state.withLock { $0.status }.map(Spawn.exitStatus)
    }

    /// SIGKILL, then its exit status.
    @discardableResult
    public func kill() async -> Int32 {
        signal(SIGKILL)
        return await exitStatus()
    }

    // MARK: - the child's own thread

    /// True once the child has exited, without reaping it (its PID stays its own until `waitpid`).
    private static func hasExited(_ pid: pid_t) -> Bool {
        var info = siginfo_t()
        return waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0
            && info._sifields._sigchld.si_pid == pid
    }

    /// How many leading bytes end on a character boundary (a read may stop inside a multi-byte character).
    public static func completeUTF8Prefix(_ bytes: [UInt8]) -> Int {
        var i = bytes.count
        var back = 0
        while i > 0, back < 4 {
            let b = bytes[i - 1]
            if b & 0xC0 != 0x80 {  // the lead byte of the last character (or ASCII)
                let length = b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1
                return back + 1 >= length ? bytes.count : i - 1
            }
            i -= 1
            back += 1
        }
        return bytes.count
    }

    /// Reads its output until it ends (a daemon it started may hold the pipes open: its end, not end-of-file, stops the
    /// reading), writes its input, and reaps it.
    private func collect(out: Int32, err: Int32, input: (fd: Int32, data: Data)?) {
        // A child that exits before taking its input makes the write fail with EPIPE, not kill this process.
        var pipeSignal = sigset_t()
        sigemptyset(&pipeSignal)
        sigaddset(&pipeSignal, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &pipeSignal, nil)
        var open: [Int32: ProcessOutput] = [out: stdout, err: stderr]
        var pendingInput = input
        if let fd = pendingInput?.fd { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        var status: Int32 = 0
        var reaped = false
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var partial: [Int32: [UInt8]] = [:]  // the start of a UTF-8 character whose rest has not arrived yet
        var pendingSignal = signalWhen
        func drain(_ fd: Int32) -> Bool {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                var bytes = (partial.removeValue(forKey: fd) ?? []) + buffer[..<n]
                let complete = Self.completeUTF8Prefix(bytes)
                if complete < bytes.count {
                    partial[fd] = Array(bytes[complete...])
                    bytes.removeSubrange(complete...)
                }
                let text = String(decoding: bytes, as: UTF8.self)
                open[fd]?.append(text)
                output.append(text)
                if let wanted = pendingSignal, output.value.contains(wanted.text) {
                    pendingSignal = nil
                    signal(wanted.signal)
                }
                return true
            }
            if n == 0 || (errno != EINTR && errno != EAGAIN) {
                close(fd)
                open[fd] = nil
            }
            return false
        }
        while !open.isEmpty || pendingInput != nil {
            var fds = open.keys.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            if let p = pendingInput { fds.append(pollfd(fd: p.fd, events: Int16(POLLOUT), revents: 0)) }
            _ = poll(&fds, nfds_t(fds.count), 100)
            for p in fds where p.revents != 0 {
                if let input = pendingInput, p.fd == input.fd {
                    let written = input.data.withUnsafeBytes { write(input.fd, $0.baseAddress, $0.count) }
                    if written < 0, errno == EAGAIN || errno == EINTR { continue }
                    if written >= 0, written < input.data.count {
                        pendingInput = (input.fd, input.data.dropFirst(written))
                    } else {
                        close(input.fd)  // all written, or the child closed its end
                        pendingInput = nil
                    }
                } else {
                    _ = drain(p.fd)
                }
            }
            if !reaped, Self.hasExited(processIdentifier) {
                reaped = true
                // It ended: take what is left in the pipes, but do not wait for end-of-file (a daemon it started
                // may keep them open), then stop.
                for fd in Array(open.keys) {
                    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                    while open[fd] != nil, drain(fd) {}
                    if open[fd] != nil { close(fd) }
                }
                open.removeAll()
                if let p = pendingInput { close(p.fd) }
                pendingInput = nil
            }
        }
        if !reaped {
            var info = siginfo_t()
            while waitid(P_PID, id_t(processIdentifier), &info, WEXITED | WNOWAIT) == -1 && errno == EINTR {}
        }
        // Reaped under the lock that `signal` takes: a signal goes to this child or to nobody, never to a reused PID.
        let waiters = state.withLock { s in
            while waitpid(processIdentifier, &status, 0) == -1 && errno == EINTR {}
            s.status = status  // the raw wait status: exit code and signal both recoverable
            defer { s.waiters.removeAll() }
            return s.waiters
        }
        for w in waiters { w.resume(returning: status) }
    }
}

/// A running child, written down in the test run's folder so that `scripts/test` can end it if the test process dies
/// first: `PID STARTTIME PROGRAM` (the start time from `/proc/PID/stat` tells a reused PID apart).
struct PIDRecord: Sendable {
    let path: String?

    /// The folder records go in: `$SETPOINT_TEST_RUN_DIR/pids`, when scripts/test set it.
    static var folder: String? {
        ProcessInfo.processInfo.environment["SETPOINT_TEST_RUN_DIR"].map { $0 + "/pids" }
    }

    init(pid: pid_t, program: String) {
        guard let folder = Self.folder else {
            path = nil
            return
        }
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = "\(folder)/\(pid)"
        let start = Self.startTime(pid) ?? "0"
        FileManager.default.createFile(atPath: path, contents: Data("\(pid) \(start) \(program)\n".utf8))
        self.path = path
    }

    func remove() {
        if let path { try? FileManager.default.removeItem(atPath: path) }
    }

    /// Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot.
    static func startTime(_ pid: pid_t) -> String? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? String(fields[19]) : nil
    }
}
