import Foundation
import SetpointCore
import SetpointExec
import SetpointPG
import SetpointRemote

/// A restored copy of the cluster on a scratch loopback port: started with `pg_ctl`, ready once promoted, stopped
/// and removed by whoever made it.
struct ScratchServer: Sendable {
    let directory: String
    let port: Int
    let bin: String
    let osUser: String
    /// The host the copy runs on: Setpoint reaches its loopback port through a forward on the host's connection.
    let access: HostAccess
    let connection: PGConfig
    let clock: any SetpointClock

    var runner: any CommandRunner { access.runner }
    var files: any HostFiles { access.files.acting(as: osUser) }
    var logFile: String { "\(directory)/setpoint-restore.log" }

    /// Where Setpoint's own connections to the copy go: 127.0.0.1 here, a forward's folder for another host.
    func config(database: String) async throws -> PGConfig {
        var host = "127.0.0.1"
        if !access.isLocal {
            guard let folder = try await access.tunnelFolder(to: "127.0.0.1", port: port) else {
                throw ScratchFailure(
                    description:
                        "\(access.name): no forward to the copy's port \(port) (forwards need multiplexing: unset SETPOINT_SSH_MULTIPLEX)"
                )
            }
            host = folder
        }
        return PGConfig(
            host: host,
            port: port,
            user: connection.user,
            password: connection.password,
            database: database,
            sslmode: connection.sslmode,
            connectTimeoutSeconds: 5,
            applicationName: "setpoint-restore"
        )
    }

    func logTail(_ lines: Int = 10) async -> String {
        guard let text = (try? await files.read(logFile)) ?? nil else { return "(no server log)" }
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
                    "the restored copy did not start on \(access.name) (pg_ctl exited \(out.status)); its log ends:\n\(await logTail())"
            )
        }
        let deadline = clock.elapsed + timeout
        let target = try await config(database: connection.database ?? "postgres")
        while clock.elapsed < deadline {
            if let db = try? await PGConnection.connect(target) {
                let recovering = try? await db.query("SELECT pg_is_in_recovery()::text").first?.values.first ?? nil
                db.close()
                if recovering == "false" { return }
            }
            if !(await isRunning) {
                throw ScratchFailure(
                    description: "the restored copy stopped during recovery; its log ends:\n\(await logTail())"
                )
            }
            try await clock.sleep(for: .milliseconds(100))
        }
        throw ScratchFailure(
            description: "the restored copy was still recovering after \(timeout); its log ends:\n\(await logTail())"
        )
    }

    var isRunning: Bool {
        get async {
            guard let text = (try? await files.read("\(directory)/postmaster.pid")) ?? nil,
                let pid = text.split(separator: "\n").first.flatMap({ pid_t($0.trimmingCharacters(in: .whitespaces)) })
            else { return false }
            if access.isLocal { return kill(pid, 0) == 0 }
            return ((try? await access.files.stat("/proc/\(pid)")) ?? nil) != nil
        }
    }

    /// Stops the copy at once (nothing in it is kept).
    func stop() async {
        guard ((try? await files.stat("\(directory)/postmaster.pid")) ?? nil) != nil else { return }
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
        if access.isLocal {
            try? FileManager.default.removeItem(atPath: directory)
            return
        }
        _ = try? await runner.run(
            Command("/bin/rm", ["-rf", "--", directory], user: osUser, timeout: .seconds(600)),
            allowFailure: true
        )
    }
}

struct ScratchFailure: Error, CustomStringConvertible {
    var description: String
}
