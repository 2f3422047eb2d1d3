import Foundation
import SetpointCore
import SetpointExec
import SetpointPG

/// Runs one backup (pgBackRest full, diff or incr; or logical dumps) and says what it made. A failure is a run too:
/// recorded with pgBackRest's message, never thrown away.
struct BackupRunner: Sendable {
    let settings: BackupSettings
    let runner: any CommandRunner
    let clock: any SetpointClock

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
                let (files, bytes) = try await LogicalDump(settings: settings, runner: runner).run(at: started)
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
        let tool = PgBackRest(runner: runner, settings: settings)
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
struct LogicalDump: Sendable {
    let settings: BackupSettings
    let runner: any CommandRunner

    func run(at started: Date) async throws -> ([String], Int64) {
        guard let logical = settings.spec.logical else {
            throw SetpointError(
                .applyFailed,
                "the policy declares no logical backups (spec.logical)",
                resource: settings.id
            )
        }
        let user = settings.osUser
        try OwnedPaths.directory(logical.directory, user: user, mode: 0o750)
        let bin = settings.cluster.binDirectory(major: nil)
        let stamp = BackupCompliance.iso(started).replacingOccurrences(of: ":", with: "")
        var files: [String] = []
        var bytes: Int64 = 0
        let c = settings.cluster.connection
        var environment: [String: String] = [:]
        if let p = c.password { environment["PGPASSWORD"] = p }
        for database in logical.databases {
            let file = "\(logical.directory)/\(database)-\(stamp).dump"
            var args = [
                "-Fc", "-f", file + ".tmp", "-p", String(settings.cluster.port), "-U", c.user ?? "postgres", "-d",
                database,
            ]
            if let host = c.host { args += ["-h", host] }
            let dump = Command(
                "\(bin)/pg_dump",
                args,
                user: user,
                environment: environment,
                timeout: .seconds(24 * 3600)
            )
            let out = try await runner.run(dump, allowFailure: true)
            guard out.status == 0 else {
                unlink(file + ".tmp")
                throw SetpointError(
                    .applyFailed,
                    "pg_dump of \(database) failed: \(out.stderr.trimmingCharacters(in: .whitespacesAndNewlines))",
                    resource: settings.id
                )
            }
            let verify = try await runner.run(
                Command("\(bin)/pg_restore", ["-f", "/dev/null", file + ".tmp"], user: user, timeout: .seconds(3600)),
                allowFailure: true
            )
            guard verify.status == 0 else {
                unlink(file + ".tmp")
                throw SetpointError(
                    .applyFailed,
                    "the dump of \(database) does not read back: \(verify.stderr)",
                    resource: settings.id
                )
            }
            guard rename(file + ".tmp", file) == 0 else {
                throw SetpointError(
                    .applyFailed,
                    "cannot rename \(file).tmp: \(String(cString: strerror(errno)))",
                    resource: settings.id
                )
            }
            let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.int64Value ?? 0
            bytes += size
            files.append((file as NSString).lastPathComponent)
            try expire(database, in: logical.directory, keep: logical.retain ?? 7)
        }
        return (files, bytes)
    }

    /// Removes all but the newest `keep` dumps of a database (names sort by time).
    func expire(_ database: String, in directory: String, keep: Int) throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
            .filter {
                $0.hasPrefix(database + "-") && $0.hasSuffix(".dump")
                    && $0.dropFirst(database.count + 1).first?.isNumber == true
            }
            .sorted()
        for old in names.dropLast(keep) { try? FileManager.default.removeItem(atPath: "\(directory)/\(old)") }
    }
}
