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
    let ssh: String
    private let local = LocalRunner()
    private let master = Mutex<pid_t?>(nil)

    public init(host: SSHClientConfig.Host, configFile: String, ssh: String = "/usr/bin/ssh") {
        self.host = host
        self.configFile = configFile
        self.ssh = ssh
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
        if let user = command.user, user != host.user { argv = ["sudo", "-n", "-u", user, "--"] + argv }
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
            ["-F", configFile, host.alias, "--", line],
            // The host's own deadline ends the command; this one ends a transport that hangs after it.
            timeout: command.timeout.map { $0 + .seconds(15) },
            input: command.input
        )
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

    /// Opens the master connection unless one is up; its PID is this runner's. Throws, quoting ssh, when the host
    /// cannot be reached, its key is not the pinned one, or the login is refused.
    public func connect(clock: ContinuousClock = ContinuousClock()) async throws {
        if try await isConnected() { return }
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("setpoint-ssh-\(UUID().uuidString)")
            .path
        defer { unlink(log) }
        let pid = try Spawn.start(
            Spawn.Request(
                argv: [ssh, "-F", configFile, "-M", "-N", "-o", "ControlPersist=no", host.alias],
                environment: ProcessInfo.processInfo.environment,
                stderr: .file(log, append: false)
            )
        )
        master.withLock { $0 = pid }
        let reaped = Mutex<Int32?>(nil)
        let thread = Thread {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
            reaped.withLock { $0 = Spawn.exitStatus(status) }
        }
        thread.name = "setpoint-ssh-master"
        thread.start()
        let deadline = clock.now + host.connectTimeout + .seconds(5)
        while clock.now < deadline {
            if try await isConnected() { return }
            if reaped.withLock({ $0 }) != nil { break }
            try await clock.sleep(for: .milliseconds(50))
        }
        kill(pid, SIGTERM)
        master.withLock { $0 = nil }
        let said = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        throw CommandFailure(
            command: Command(ssh, ["-M", "-N", host.alias]),
            status: reaped.withLock { $0 },
            output: said,
            reason: "could not open a connection to \(name)"
        )
    }

    /// Whether the master connection answers (`ssh -O check`).
    public func isConnected() async throws -> Bool {
        try await local.run(Command(ssh, ["-F", configFile, "-O", "check", host.alias]), allowFailure: true).status == 0
    }

    /// The master's PID, while this runner holds one.
    public var masterPID: pid_t? { master.withLock { $0 } }

    /// Ends the master connection (`ssh -O exit`, then its PID).
    public func close() async {
        guard
            let pid = master.withLock({ p -> pid_t? in
                defer { p = nil }
                return p
            })
        else { return }
        _ = try? await local.run(Command(ssh, ["-F", configFile, "-O", "exit", host.alias]), allowFailure: true)
        kill(pid, SIGTERM)
    }
}
