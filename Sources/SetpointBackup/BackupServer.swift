import Foundation
import SetpointCore
import SetpointExec
import SetpointRemote

/// One host's `pgbackrest server` in the TLS-server layout, run as the cluster's OS user in a session of its own, its
/// PID and the digest of the files it started with in `STANZA.tls/server.pid`. A server whose files changed since it
/// started is restarted; one that died is started again.
struct BackupServer: Sendable {
    let place: BackupHosts.Place
    let settings: BackupSettings
    let clock: any SetpointClock

    var access: HostAccess { place.access }
    var pidFile: String { "\(settings.tlsDirectory)/server.pid" }
    var outputFile: String { "\(settings.tlsDirectory)/server.out" }
    var files: any HostFiles { access.files.acting(as: settings.osUser) }

    enum Status: Sendable, Equatable {
        case stopped
        case running(pid: Int, digest: String)
    }

    /// `PID STARTTIME DIGEST` in the PID file: the start time (field 22 of /proc/PID/stat) tells a reused PID apart.
    func status() async throws -> Status {
        guard let text = try await files.read(pidFile) else { return .stopped }
        let parts = text.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        guard parts.count == 3, let pid = Int(parts[0]) else { return .stopped }
        // The PID is this server's only while its process is pgbackrest, alive (a zombie is not) and started when the
        // file says (`PID (comm) STATE PPID … STARTTIME …`).
        guard let stat = try await access.files.read("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")"),
            stat[..<close].hasSuffix("(pgbackrest")
        else { return .stopped }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, fields[0] != "Z", fields[0] != "X", fields[19] == parts[1] else { return .stopped }
        return .running(pid: pid, digest: parts[2])
    }

    /// What is wrong with the server (nil: runs with the current files).
    func drift(digest: String) async throws -> String? {
        switch try await status() {
        case .stopped: return "pgbackrest server is not running"
        case .running(_, let d) where d != digest: return "pgbackrest server runs with files older than these"
        case .running: return nil
        }
    }

    /// Starts the server, or restarts it when it runs with other files; waits until it accepts connections.
    /// Returns what it did (nil: nothing to do).
    func ensure(digest: String) async throws -> String? {
        let before = try await status()
        if case .running(_, let d) = before, d == digest { return nil }
        if case .running(let pid, _) = before { try await stop(pid) }
        let script = """
            umask 077
            cd / || exit 1
            setsid "$1" --config="$2" --config-include-path="$3" server </dev/null >"$4" 2>&1 &
            pid=$!
            started=$(sed 's/.*) //' "/proc/$pid/stat" | cut -d' ' -f20) || exit 1
            echo "$pid $started $5" >"$6"
            """
        let out = try await access.runner.run(
            Command(
                "/bin/sh",
                [
                    "-c", script, "sh", "pgbackrest", settings.configFile, settings.includeDirectory, outputFile,
                    digest,
                    pidFile,
                ],
                user: settings.osUser,
                timeout: .seconds(30)
            ),
            allowFailure: true
        )
        guard out.status == 0 else {
            throw failure(
                "cannot start pgbackrest server: \(out.stderr.trimmingCharacters(in: .whitespacesAndNewlines))"
            )
        }
        // Listening is proved by server-ping from the host itself; a server that exits says why in its output.
        let address = access.address ?? "127.0.0.1"
        var said = ""
        for _ in 0..<40 {
            let ping = try await access.runner.run(
                Command(
                    "pgbackrest",
                    ["--tls-server-port=\(settings.tls?.port ?? 8432)", "server-ping", address],
                    user: settings.osUser,
                    timeout: .seconds(15)
                ),
                allowFailure: true
            )
            if ping.status == 0 {
                return before == .stopped
                    ? "started pgbackrest server on \(access.name) (port \(settings.tls?.port ?? 8432))"
                    : "restarted pgbackrest server on \(access.name): its configuration or certificates changed"
            }
            said = PgBackRest.errorText(stderr: ping.stderr, stdout: ping.stdout)
            if try await status() == .stopped { break }
            try await clock.sleep(for: .milliseconds(250))
        }
        let output = (try? await files.read(outputFile)) ?? nil
        throw failure(
            "pgbackrest server does not answer on \(address):\(settings.tls?.port ?? 8432) (server-ping: \(said))"
                + (output.map { "; its output ends: \($0.split(separator: "\n").suffix(5).joined(separator: " / "))" }
                    ?? "")
        )
    }

    func stop(_ pid: Int) async throws {
        _ = try await access.runner.run(
            Command("/bin/kill", ["--", String(pid)], user: settings.osUser, timeout: .seconds(15)),
            allowFailure: true
        )
        for _ in 0..<40 {
            if try await status() == .stopped { return }
            try await clock.sleep(for: .milliseconds(250))
        }
        throw failure("pgbackrest server (PID \(pid)) did not stop within 10 s of SIGTERM")
    }

    func failure(_ message: String) -> SetpointError {
        SetpointError(.applyFailed, "\(access.name): \(message)", resource: settings.id)
    }
}
