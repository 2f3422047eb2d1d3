import Foundation
import SetpointExec
import SetpointPG
import Testing

/// A PostgreSQL 15 primary of a test's own (its port, its data directory), with replicas on demand; started with
/// SetpointExec as the postgres user, stopped by `stop()`. Needs SETPOINT_TEST_PG_BIN (scripts/test sets it).
final class PGTestCluster: @unchecked Sendable {
    let dir: String
    let bin: String
    let runner = LocalRunner()
    private(set) var ports: [String: Int] = [:]

    var primaryConfig: PGConfig { config("primary") }

    func config(_ member: String) -> PGConfig {
        PGConfig(
            host: "127.0.0.1",
            port: ports[member],
            user: "postgres",
            database: "postgres",
            sslmode: "disable",
            connectTimeoutSeconds: 5
        )
    }

    func dataDirectory(_ member: String) -> String { "\(dir)/\(member)" }

    private init(dir: String, bin: String) {
        self.dir = dir
        self.bin = bin
    }

    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) }
        }
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// initdb + start a primary (trust on loopback: these tests are about replication, not auth).
    static func start() async throws -> PGTestCluster {
        let bin = try #require(
            ProcessInfo.processInfo.environment["SETPOINT_TEST_PG_BIN"],
            "SETPOINT_TEST_PG_BIN is not set: run the tests through scripts/test"
        )
        let dir = FileManager.default.temporaryDirectory.path + "/setpoint-pg-\(UUID().uuidString.prefix(8))"
        let cluster = PGTestCluster(dir: dir, bin: bin)
        try FileManager.default.createDirectory(
            atPath: dir,
            withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o755]
        )
        _ = try await cluster.runner.run(Command("/bin/chown", ["postgres:postgres", dir]))
        let data = cluster.dataDirectory("primary")
        _ = try await cluster.runner.run(
            Command("\(bin)/initdb", ["-D", data, "-U", "postgres", "--auth=trust", "--no-sync"], user: "postgres")
        )
        try await cluster.startMember("primary", port: freePort())
        return cluster
    }

    /// Runs `body` with a fresh cluster and stops every member afterwards, whether `body` threw or not.
    static func with<T>(_ body: (PGTestCluster) async throws -> T) async throws -> T {
        let cluster = try await start()
        do {
            let result = try await body(cluster)
            await cluster.stop()
            return result
        } catch {
            await cluster.stop()
            throw error
        }
    }

    /// Starts a member; a port another test took between `freePort()` and the bind is retried with a new one (tests
    /// run in parallel), and any other failure quotes the server's log.
    func startMember(_ name: String, port: Int) async throws {
        var port = port
        let data = dataDirectory(name)
        for attempt in 1...3 {
            ports[name] = port
            let out = try await runner.run(
                Command(
                    "\(bin)/pg_ctl",
                    [
                        "-D", data, "-l", "\(dir)/\(name).log", "-w", "-t", "30",
                        "-o", "-p \(port) -k \(dir) -c listen_addresses=127.0.0.1 -c fsync=off", "start",
                    ],
                    user: "postgres",
                    timeout: .seconds(60)
                ),
                allowFailure: true
            )
            if out.status == 0 { return }
            let log = (try? String(contentsOfFile: "\(dir)/\(name).log", encoding: .utf8)) ?? ""
            let tail = log.split(separator: "\n").suffix(6).joined(separator: "\n")
            guard attempt < 3, log.contains("already in use") || log.contains("could not create any TCP/IP sockets")
            else {
                throw CommandFailure(
                    command: Command("\(bin)/pg_ctl"),
                    status: out.status,
                    output: out.stdout + out.stderr + "\n" + tail,
                    reason: "could not start \(name) on port \(port)"
                )
            }
            port = Self.freePort()
        }
    }

    /// pg_basebackup -R from the primary, then start: a streaming replica named `name`.
    func addReplica(_ name: String) async throws {
        let data = dataDirectory(name)
        _ = try await runner.run(
            Command(
                "\(bin)/pg_basebackup",
                [
                    "-h", "127.0.0.1", "-p", String(ports["primary"]!), "-U", "postgres", "-D", data, "-R", "-C", "-S",
                    Self.slotName(name), "-X", "stream",
                    "-d", "application_name=\(name)", "--no-sync",
                ],
                user: "postgres",
                timeout: .seconds(60)
            )
        )
        try await startMember(name, port: Self.freePort())
    }

    /// Records a member started by someone else (the code under test), so `stop()` stops it too.
    func adopt(_ name: String, port: Int) { ports[name] = port }

    /// Slot names allow lower-case letters, digits and `_` only: `pg-2` → `pg_2`.
    static func slotName(_ member: String) -> String { member.lowercased().replacingOccurrences(of: "-", with: "_") }

    func stop() async {
        for name in ports.keys {
            _ = try? await runner.run(
                Command(
                    "\(bin)/pg_ctl",
                    ["-D", dataDirectory(name), "-m", "immediate", "-w", "stop"],
                    user: "postgres"
                ),
                allowFailure: true
            )
        }
        try? FileManager.default.removeItem(atPath: dir)
    }
}
