import Foundation
import SetpointCore
import SetpointExec
import SetpointPG
import SetpointRemote

/// Runs one backup (pgBackRest full, diff or incr; or logical dumps) and says what it made. A failure is a run too:
/// recorded with pgBackRest's message, never thrown away.
struct BackupRunner: Sendable {
    let hosts: BackupHosts
    let clock: any SetpointClock

    var settings: BackupSettings { hosts.settings }

    static func runID(_ policy: String, _ kind: BackupRun.Kind, _ started: Date) -> String {
        "\(policy):\(kind.rawValue):\(BackupCompliance.iso(started))"
    }

    func run(_ kind: BackupRun.Kind, trigger: String) async -> BackupRun {
        let started = clock.now
        let began = clock.elapsed
        func finish(
            _ outcome: BackupRun.Outcome,
            kind: BackupRun.Kind,
            label: String? = nil,
            size: Int64? = nil,
            repository: Int64? = nil,
            message: String?
        ) -> BackupRun {
            BackupRun(
                id: Self.runID(settings.id.name, kind, started),
                policy: settings.id.name,
                kind: kind,
                startedAt: BackupCompliance.iso(started),
                finishedAt: BackupCompliance.iso(clock.now),
                seconds: (clock.elapsed - began).inSeconds,
                outcome: outcome,
                label: label,
                sizeBytes: size,
                repositoryBytes: repository,
                message: message,
                trigger: trigger
            )
        }
        if kind == .logical {
            do {
                let (files, bytes) = try await LogicalDump(hosts: hosts).run(at: started)
                return finish(
                    .succeeded,
                    kind: .logical,
                    size: bytes,
                    message: "dumped " + files.joined(separator: ", ")
                )
            } catch {
                return finish(.failed, kind: .logical, message: "\(error)")
            }
        }
        let tool = PgBackRest(runner: hosts.repository.runner, settings: settings)
        do {
            let out = try await tool.run("backup", ["--type=\(kind.rawValue)"], timeout: .seconds(24 * 3600))
            let label = Self.value(after: "new backup label = ", in: out)
            let info = try? await tool.info()
            let made = info?.backups.first { $0.label == label }
            // pgBackRest makes an incr or diff without a prior full a full, and says so in a warning.
            let actual = made.flatMap { BackupRun.Kind(rawValue: $0.type) } ?? kind
            var message: String?
            if actual != kind {
                message = "pgBackRest made a \(actual.rawValue) backup: there was no prior full backup"
            }
            return finish(
                .succeeded,
                kind: actual,
                label: label,
                size: made?.databaseBytes,
                repository: made?.repositoryDeltaBytes,
                message: message
            )
        } catch {
            return finish(.failed, kind: kind, message: "\(error)")
        }
    }

    /// The rest of the line after `marker` in pgBackRest's INFO output.
    static func value(after marker: String, in text: String) -> String? {
        for line in text.split(separator: "\n") {
            if let r = line.range(of: marker) {
                return String(line[r.upperBound...]).trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }
}

/// `pg_dump -Fc` of each listed database into the policy's logical directory, checked by reading it back in full
/// (`pg_restore -f /dev/null`: `--list` reads only the table of contents), keeping the newest `retain` per database.
/// The dumps are made on the repository's host (this machine in the local layout), the password in a passfile there.
struct LogicalDump: Sendable {
    let hosts: BackupHosts

    var settings: BackupSettings { hosts.settings }

    func fail(_ message: String) -> SetpointError {
        SetpointError(.applyFailed, "\(hosts.repository.name): \(message)", resource: settings.id)
    }

    func run(at started: Date) async throws -> ([String], Int64) {
        guard let logical = settings.spec.logical else {
            throw SetpointError(
                .applyFailed,
                "the policy declares no logical backups (spec.logical)",
                resource: settings.id
            )
        }
        let user = settings.osUser
        let access = hosts.repository
        let files = access.files.acting(as: user)
        try await BackupFolders.ensure(access, logical.directory, user: user, mode: 0o750)
        let bin = settings.cluster.binDirectory(major: nil)
        let stamp = BackupCompliance.iso(started).replacingOccurrences(of: ":", with: "")
        var names: [String] = []
        var bytes: Int64 = 0
        let c = settings.cluster.connection
        // From another host, the primary's address (never this machine's forward to it).
        let host = hosts.places.isEmpty ? c.host : settings.cluster.host ?? settings.cluster.members.first?.address
        for database in logical.databases {
            let file = "\(logical.directory)/\(database)-\(stamp).dump"
            try await access.withPassfile(c.password, user: user) { passfile in
                var conninfo = [
                    ("port", String(settings.cluster.port)), ("user", c.user ?? "postgres"), ("dbname", database),
                ]
                if let host { conninfo.append(("host", host)) }
                if let passfile { conninfo.append(("passfile", passfile)) }
                let dump = Command(
                    "\(bin)/pg_dump",
                    ["-Fc", "-f", file + ".tmp", "-d", PGConfig.conninfoString(conninfo)],
                    user: user,
                    timeout: .seconds(24 * 3600)
                )
                let out = try await access.runner.run(dump, allowFailure: true)
                guard out.status == 0 else {
                    try? await files.remove(file + ".tmp")
                    throw fail(
                        "pg_dump of \(database) failed: \(out.stderr.trimmingCharacters(in: .whitespacesAndNewlines))"
                    )
                }
            }
            let verify = try await access.runner.run(
                Command("\(bin)/pg_restore", ["-f", "/dev/null", file + ".tmp"], user: user, timeout: .seconds(3600)),
                allowFailure: true
            )
            guard verify.status == 0 else {
                try? await files.remove(file + ".tmp")
                throw fail("the dump of \(database) does not read back: \(verify.stderr)")
            }
            try? await files.remove(file)
            try await files.move(file + ".tmp", to: file)
            bytes += try await files.stat(file)?.size ?? 0
            names.append((file as NSString).lastPathComponent)
            try await expire(database, in: logical.directory, keep: logical.retain ?? 7, files: files)
        }
        return (names, bytes)
    }

    /// Removes all but the newest `keep` dumps of a database (names sort by time).
    func expire(_ database: String, in directory: String, keep: Int, files: any HostFiles) async throws {
        let names = (try await files.list(directory) ?? [])
            .filter {
                $0.hasPrefix(database + "-") && $0.hasSuffix(".dump")
                    && $0.dropFirst(database.count + 1).first?.isNumber == true
            }
            .sorted()
        for old in names.dropLast(keep) { try? await files.remove("\(directory)/\(old)") }
    }
}
