import Foundation
import SetpointCore
import SetpointExec
import SetpointPG

/// A restored copy of the cluster on a scratch loopback port: started with `pg_ctl`, ready once promoted, stopped
/// and removed by whoever made it.
struct ScratchServer: Sendable {
    let directory: String
    let port: Int
    let bin: String
    let osUser: String
    let runner: any CommandRunner
    let connection: PGConfig
    let clock: any SetpointClock

    var logFile: String { "\(directory)/setpoint-restore.log" }

    func config(database: String) -> PGConfig {
        PGConfig(
            host: "127.0.0.1",
            port: port,
            user: connection.user,
            password: connection.password,
            database: database,
            sslmode: connection.sslmode,
            connectTimeoutSeconds: 5,
            applicationName: "setpoint-restore"
        )
    }

    func logTail(_ lines: Int = 10) -> String {
        guard let text = try? String(contentsOfFile: logFile, encoding: .utf8) else { return "(no server log)" }
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }

    /// Starts the copy and waits until recovery ends (pg_ctl -w returns while it still replays WAL).
    func startAndPromote(timeout: Duration) async throws {
        let command = Command(
            "\(bin)/pg_ctl",
            ["-D", directory, "-l", logFile, "-w", "-t", String(Int(timeout.inSeconds)), "start"],
            user: osUser,
            timeout: timeout + .seconds(30)
        )
        let out = try await runner.run(command, allowFailure: true)
        guard out.status == 0 else {
            throw ScratchFailure(
                description:
                    "the restored copy did not start (pg_ctl exited \(out.status)); its log ends:\n\(logTail())"
            )
        }
        let deadline = clock.elapsed + timeout
        while clock.elapsed < deadline {
            if let db = try? await PGConnection.connect(config(database: connection.database ?? "postgres")) {
                let recovering = try? await db.query("SELECT pg_is_in_recovery()::text").first?.values.first ?? nil
                db.close()
                if recovering == "false" { return }
            }
            if !isRunning {
                throw ScratchFailure(
                    description: "the restored copy stopped during recovery; its log ends:\n\(logTail())"
                )
            }
            try await clock.sleep(for: .milliseconds(100))
        }
        throw ScratchFailure(
            description: "the restored copy was still recovering after \(timeout); its log ends:\n\(logTail())"
        )
    }

    var isRunning: Bool {
        guard let text = try? String(contentsOfFile: "\(directory)/postmaster.pid", encoding: .utf8),
            let pid = text.split(separator: "\n").first.flatMap({ pid_t($0.trimmingCharacters(in: .whitespaces)) })
        else { return false }
        return kill(pid, 0) == 0
    }

    /// Stops the copy at once (nothing in it is kept).
    func stop() async {
        guard FileManager.default.fileExists(atPath: "\(directory)/postmaster.pid") else { return }
        _ = try? await runner.run(
            Command(
                "\(bin)/pg_ctl",
                ["-D", directory, "-m", "immediate", "-w", "-t", "60", "stop"],
                user: osUser,
                timeout: .seconds(90)
            ),
            allowFailure: true
        )
    }

    /// Stops the copy and removes its directory.
    func remove() async {
        await stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

struct ScratchFailure: Error, CustomStringConvertible {
    var description: String
}
