import Foundation
import SetpointExec
import SetpointPG
import SetpointRemote

/// Starting, restarting, re-pointing and rewinding members: the steps that bring a member in line with its role, run on
/// the member's host (its Host over SSH, or this machine) as the server's OS user.
struct MemberControl: Sendable {
    let access: HostAccess
    let binDirectory: String
    let osUser: String

    var runner: any CommandRunner { access.runner }
    /// The member's files, as the server's OS user (a data directory is its alone).
    var files: any HostFiles { access.files.acting(as: osUser) }

    /// A libpq conninfo string, each value single-quoted (`'` and `\` escaped), as `primary_conninfo` wants it.
    static func conninfo(_ pairs: [(String, String)]) -> String { PGConfig.conninfoString(pairs) }

    /// How a standby of `primary` connects to it.
    static func primaryConninfo(settings: ClusterSettings, primary: ClusterSettings.Member, standby: String) -> String {
        var pairs: [(String, String)] = []
        if let host = primary.host { pairs.append(("host", host)) }
        pairs.append(("port", String(primary.port)))
        pairs.append(("user", settings.replicationUser))
        if let password = settings.replicationPassword { pairs.append(("password", password)) }
        pairs.append(("application_name", standby))
        return conninfo(pairs)
    }

    func logFile(_ dataDirectory: String) -> String { "\(dataDirectory)/setpoint-pg_ctl.log" }

    /// A `postmaster.pid` whose process is gone (a crash; a zombie nobody reaped) would stop the server from starting:
    /// PostgreSQL itself only asks whether the PID exists.
    /// The socket's lock file (`DIR/.s.PGSQL.PORT.lock`, named in postmaster.pid's 4th and 5th lines) goes with it.
    func clearStaleLock(_ dataDirectory: String) async throws {
        let lockFile = dataDirectory + "/postmaster.pid"
        guard let pid = await ClusterView.postmasterPID(dataDirectory, files: files),
            await !ClusterView.isPostgresRunning(pid, files: files),
            let text = try await files.read(lockFile)
        else { return }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.count > 4, let port = Int(lines[3].trimmingCharacters(in: .whitespaces)) {
            for directory in lines[4].split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) })
            where directory.hasPrefix("/") {
                let socketLock = "\(directory)/.s.PGSQL.\(port).lock"
                let owner = (try? await files.read(socketLock))?.split(separator: "\n").first
                    .flatMap { Int32($0.trimmingCharacters(in: .whitespaces)) }
                if owner == pid {
                    try await files.remove(socketLock)
                    try await files.remove("\(directory)/.s.PGSQL.\(port)")
                }
            }
        }
        try await files.remove(lockFile)
    }

    func start(_ dataDirectory: String) async throws {
        try await clearStaleLock(dataDirectory)
        let command = Command(
            "\(binDirectory)/pg_ctl",
            ["-D", dataDirectory, "-l", logFile(dataDirectory), "-w", "-t", "120", "start"],
            user: osUser,
            timeout: .seconds(150)
        )
        let out = try await runner.run(command, allowFailure: true)
        guard out.status != 0 else { return }
        throw CommandFailure(
            command: command,
            status: out.status,
            output: out.stdout + out.stderr + "\n" + (await logTail(dataDirectory)),
            reason: "exited with status \(out.status)" + (access.isLocal ? "" : " on \(access.name)")
        )
    }

    /// The server log's last lines (what `pg_ctl` means by "Examine the log output").
    func logTail(_ dataDirectory: String, lines: Int = 8) async -> String {
        guard let text = try? await files.read(logFile(dataDirectory)) else { return "" }
        return "log \(logFile(dataDirectory)) ends:\n"
            + text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }

    func restart(_ dataDirectory: String) async throws {
        _ = try await runner.run(
            Command(
                "\(binDirectory)/pg_ctl",
                ["-D", dataDirectory, "-l", logFile(dataDirectory), "-m", "fast", "-w", "-t", "120", "restart"],
                user: osUser,
                timeout: .seconds(150)
            )
        )
    }

    func stop(_ dataDirectory: String, mode: String = "fast") async throws {
        _ = try await runner.run(
            Command(
                "\(binDirectory)/pg_ctl",
                ["-D", dataDirectory, "-m", mode, "-w", "-t", "120", "stop"],
                user: osUser,
                timeout: .seconds(150)
            )
        )
    }

    /// `Latest checkpoint location` from `pg_controldata` (a stopped server's last WAL position, as an LSN).
    func latestCheckpoint(_ dataDirectory: String) async throws -> String? {
        // LC_ALL=C through env(1): the field names are matched in English.
        let out = try await runner.run(
            Command(
                "/usr/bin/env",
                ["LC_ALL=C", "\(binDirectory)/pg_controldata", "-D", dataDirectory],
                user: osUser,
                timeout: .seconds(30)
            )
        )
        for line in out.stdout.split(separator: "\n") where line.hasPrefix("Latest checkpoint location:") {
            return line.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) }
        }
        return nil
    }

    /// Makes a stopped data directory a standby of `primaryConninfo`: `standby.signal`, and `primary_conninfo` /
    /// `primary_slot_name` appended to `postgresql.auto.conf` (later lines win; the next ALTER SYSTEM rewrites the file).
    /// The port is written again too: pg_rewind copies the source's configuration files, its port included.
    func writeStandbyConfig(_ dataDirectory: String, port: Int, primaryConninfo: String, slot: String?) async throws {
        var text =
            "# Setpoint: standby settings\nport = \(port)\nprimary_conninfo = '\(primaryConninfo.replacingOccurrences(of: "'", with: "''"))'\n"
        if let slot { text += "primary_slot_name = '\(slot)'\n" }
        _ = try await runner.run(
            Command(
                "/usr/bin/tee",
                ["-a", "\(dataDirectory)/postgresql.auto.conf"],
                user: osUser,
                timeout: .seconds(30),
                input: text
            )
        )
        _ = try await runner.run(
            Command("/usr/bin/touch", ["\(dataDirectory)/standby.signal"], user: osUser, timeout: .seconds(30))
        )
    }

    /// `pg_rewind` of a former primary onto the current one. A server that crashed is first taken through crash recovery
    /// in single-user mode (pg_rewind wants a clean shutdown), as Patroni does.
    /// - Parameters:
    ///   - source: how Setpoint reaches the source (its CHECKPOINT), through a forward when it is behind a jump host;
    ///   - serverSource: how this member's host reaches it (pg_rewind's --source-server).
    func rewind(_ dataDirectory: String, source: PGConfig, serverSource: PGConfig) async throws -> String {
        // A just-promoted primary records its new timeline in pg_control at its next checkpoint; before that pg_rewind
        // sees one timeline and says "no rewind required" (Patroni checkpoints first too).
        let db = try await PGConnection.counted(source)
        _ = try await db.query("CHECKPOINT")
        db.close()
        var pairs: [(String, String)] = []
        if let host = serverSource.host { pairs.append(("host", host)) }
        if let port = serverSource.port { pairs.append(("port", String(port))) }
        if let user = serverSource.user { pairs.append(("user", user)) }
        pairs.append(("dbname", serverSource.database ?? "postgres"))
        // The password in a passfile on the member's host, removed afterwards: never on a command line or in an environment.
        return try await access.withPassfile(serverSource.password, user: osUser) { passfile in
            let command = Command(
                "\(binDirectory)/pg_rewind",
                [
                    "-D", dataDirectory, "--source-server",
                    Self.conninfo(pairs + (passfile.map { [("passfile", $0)] } ?? [])), "--no-ensure-shutdown",
                ],
                user: osUser,
                timeout: .seconds(600)
            )
            return try await rewind(dataDirectory, command: command)
        }
    }

    func rewind(_ dataDirectory: String, command: Command) async throws -> String {
        let first = try await runner.run(command, allowFailure: true)
        if first.status == 0 { return first.stdout + first.stderr }
        let said = first.stdout + first.stderr
        guard said.contains("shut down cleanly") || said.contains("must be shut down") else {
            throw CommandFailure(command: command, status: first.status, output: said, reason: "pg_rewind failed")
        }
        // Crash recovery to a consistent, cleanly shut down state, then the rewind.
        try await clearStaleLock(dataDirectory)
        _ = try await runner.run(
            Command(
                "\(binDirectory)/postgres",
                [
                    "--single", "-F", "-D", dataDirectory, "-c", "archive_mode=off",
                    // keep the WAL pg_rewind reads back to the common checkpoint
                    "-c", "wal_keep_size=100000", "template1",
                ],
                user: osUser,
                timeout: .seconds(600),
                input: ""
            )
        )
        return try await runner.run(command).stdout
    }
}
