import Foundation
import Synchronization

/// Runs commands on one host over OpenSSH, with the configuration Setpoint wrote for it (``SSHClientConfig``, passed
/// with `ssh -F`): the argv quoted for the remote shell (``RemoteShell``), `sudo -n -u USER --` for another OS user,
/// `timeout` on the host so a command past its deadline ends there too, input on stdin. ``connect()`` opens the host's
/// one master connection as a child whose PID this runner owns; commands then share it (`ControlMaster auto`), and
/// ``close()`` ends it.
public final class SSHRunner: CommandRunner, Sendable {
    public let host: SSHClientConfig.Host
    /// The `ssh -F` file holding this host's block (and its jump host's).
    public let configFile: String
    /// The ssh client's path.
    public let ssh: String
    private let local = LocalRunner()
    private let master = Mutex<MasterProcess?>(nil)
    /// Sessions at once on the host's connection, below sshd's `MaxSessions` (10 by default): more would be refused.
    private let sessions: AsyncSemaphore

    /// Whether a command for another OS user runs through `sudo -n -u` (the Host's `become: sudo`); false refuses it.
    public let become: Bool

    public init(
        host: SSHClientConfig.Host,
        configFile: String,
        maxSessions: Int = 8,
        become: Bool = true,
        ssh: String = "/usr/bin/ssh"
    ) {
        self.host = host
        self.configFile = configFile
        self.ssh = ssh
        self.become = become
        sessions = AsyncSemaphore(max(1, maxSessions))
    }

    /// Where the host is, for messages: `pg-2 (10.0.0.12:22)`.
    public var name: String { "\(host.alias) (\(host.address):\(host.port))" }

    /// The remote command line for a command: its argv quoted, run as its user, ended by its deadline on the host.
    public func commandLine(_ command: Command) throws -> String {
        guard command.environment.isEmpty else {
            throw CommandFailure(
                command: command,
                status: nil,
                output: "",
                reason:
                    "cannot run on \(name) with an environment: its values may be secrets, and a secret never travels on a command line"
            )
        }
        var argv = [command.executable] + command.arguments
        if let user = command.user, user != host.user {
            guard become else {
                throw CommandFailure(
                    command: command,
                    status: nil,
                    output: "",
                    reason:
                        "cannot run as \(user) on \(name): its Host says become: none and logs in as \(host.user); log in as \(user), or set become: sudo"
                )
            }
            argv = ["sudo", "-n", "-u", user, "--"] + argv
        }
        if let timeout = command.timeout {
            let seconds = max(1, Int((timeout.components.seconds) + (timeout.components.attoseconds > 0 ? 1 : 0)))
            argv = ["timeout", "--kill-after=5", String(seconds)] + argv
        }
        let line = try RemoteShell.commandLine(argv)
        return command.workingDirectory.map { "cd \(RemoteShell.quote($0)) && exec \(line)" } ?? line
    }

    public func run(_ command: Command, allowFailure: Bool) async throws -> CommandOutput {
        let line = try commandLine(command)
        let transport = Command(
            ssh,
            // Only connect()'s `-M` process is a master: a command never becomes one (it would outlive itself until every
            // session on it ends).
            ["-F", configFile, "-o", "ControlMaster=no", host.alias, "--", line],
            // The host's own deadline ends the command; this one ends a transport that hangs after it.
            timeout: command.timeout.map { $0 + .seconds(15) },
            input: command.input
        )
        try await sessions.acquire()
        defer { sessions.release() }
        let out = try await local.run(transport, allowFailure: true)
        // ssh exits 255 for its own failures (unreachable, host key, authentication), else with the command's status.
        if out.status == 255 {
            throw CommandFailure(
                command: command,
                status: nil,
                output: out.stderr,
                reason: "could not be run: \(name) was not reached over SSH"
            )
        }
        // sudo's own refusal is never the command's result, even where a failure is allowed.
        if let user = command.user, user != host.user, out.status == 1, Self.sudoRefused(out.stderr) {
            throw SudoRefusal(host: name, sshUser: host.user, user: user, said: out.stderr)
        }
        // timeout(1) on the host: 124 when it ended the command, 137 when it had to kill it.
        if let timeout = command.timeout, out.status == 124 || out.status == 137 {
            throw CommandFailure(
                command: command,
                status: out.status,
                output: out.stderr.isEmpty ? out.stdout : out.stderr,
                reason: "timed out after \(timeout) on \(name)"
            )
        }
        if out.status != 0, !allowFailure {
            throw CommandFailure(
                command: command,
                status: out.status,
                output: out.stderr.isEmpty ? out.stdout : out.stderr,
                reason: "exited with status \(out.status) on \(name)"
            )
        }
        return out
    }

    /// What sudo says when it will not run a command as that user without a password.
    static func sudoRefused(_ stderr: String) -> Bool {
        stderr.contains("sudo: a password is required") || stderr.contains("sudo: a terminal is required")
            || stderr.contains("is not allowed to execute") || stderr.contains("is not in the sudoers file")
    }

    /// Opens the master connection unless one is up; its PID is this runner's. Throws, quoting ssh, when the host
    /// cannot be reached, its key is not the pinned one, or the login is refused.
    public func connect() async throws {
        if try await isConnected() { return }
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("setpoint-ssh-\(UUID().uuidString)")
            .path
        defer { unlink(log) }
        let process = try MasterProcess(
            Spawn.Request(
                argv: [ssh, "-F", configFile, "-M", "-N", host.alias],
                environment: ProcessInfo.processInfo.environment,
                stderr: .file(log, append: false)
            )
        )
        master.withLock { $0 = process }
        // The socket appears once the login succeeded; one `-O check` then confirms the master answers on it.
        let clock = ContinuousClock()
        let deadline = clock.now + host.connectTimeout + .seconds(5)
        while clock.now < deadline, process.exitStatus == nil {
            if FileManager.default.fileExists(atPath: host.controlPath), try await isConnected() { return }
            try await clock.sleep(for: .milliseconds(20))
        }
        process.terminate()
        master.withLock { $0 = nil }
        let said = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        throw CommandFailure(
            command: Command(ssh, ["-F", configFile, "-M", "-N", host.alias]),
            status: process.exitStatus,
            output: said,
            reason: "could not open a connection to \(name)"
        )
    }

    /// Whether the master connection answers (`ssh -O check`).
    public func isConnected() async throws -> Bool {
        try await local.run(Command(ssh, ["-F", configFile, "-O", "check", host.alias]), allowFailure: true).status == 0
    }

    /// Whether this runner holds a master that has not ended (no process is started to find out).
    public var hasLiveMaster: Bool { master.withLock { $0.map { $0.exitStatus == nil } ?? false } }

    /// The master's PID, while this runner holds one.
    public var masterPID: pid_t? { master.withLock { $0?.pid } }

    /// Ends the master connection (`ssh -O exit`, then its PID if it still runs).
    public func close() async {
        guard
            let process = master.withLock({ p -> MasterProcess? in
                defer { p = nil }
                return p
            })
        else { return }
        _ = try? await local.run(Command(ssh, ["-F", configFile, "-O", "exit", host.alias]), allowFailure: true)
        process.terminate()
    }

    deinit { master.withLock { $0?.terminate() } }
}

/// sudo on a host would not let the SSH user act as the OS user a command needs (no password can be typed).
public struct SudoRefusal: Error, Sendable, CustomStringConvertible {
    public var host: String
    public var sshUser: String
    public var user: String
    public var said: String

    public var description: String {
        "sudo on \(host) refused to let \(sshUser) act as \(user): add `\(sshUser) ALL=(\(user)) NOPASSWD: ALL` to "
            + "/etc/sudoers.d/setpoint on the host (docs/hosts.md); sudo said: "
            + said.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// A master ssh this process started and owns: reaped on a thread of its own, and signalled only while it has not been
/// reaped, so a PID the system handed on to another process is never signalled.
final class MasterProcess: Sendable {
    let pid: pid_t
    private let exit = Mutex<Int32?>(nil)

    init(_ request: Spawn.Request) throws {
        pid = try Spawn.start(request)
        let pid = self.pid
        let thread = Thread { [self] in
            // Wait without reaping, record the end under the lock, then reap: until then the PID is still this child's.
            var info = siginfo_t()
            while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) == -1 && errno == EINTR {}
            var status: Int32 = 0
            self.exit.withLock { e in
                while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
                e = Spawn.exitStatus(status)
            }
        }
        thread.name = "setpoint-ssh-master"
        thread.start()
    }

    var exitStatus: Int32? { exit.withLock { $0 } }

    /// SIGTERM, unless it has ended.
    func terminate() {
        exit.withLock { e in if e == nil { kill(pid, SIGTERM) } }
    }
}
