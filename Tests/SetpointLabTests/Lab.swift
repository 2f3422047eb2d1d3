import Foundation
import SetpointTesting
import Testing

/// The lab `scripts/test` brings up (`scripts/lab up 3`, prefix `sptest`): its inventory, Setpoint run in its ops
/// namespace (the only place its hosts can be reached from), and commands on its hosts to check their state.
struct Lab: Sendable {
    struct Host: Decodable, Sendable {
        let name: String
        let namespace: String
        let address: String
        let port: Int
        let hostKey: String
    }

    struct Inventory: Decodable, Sendable {
        let directory: String
        let sshUser: String
        let privateKey: String
        let hosts: [Host]
    }

    let script: String
    let inventory: Inventory
    /// What `scripts/lab` needs to find this lab (its folder and prefix), and PATH.
    let environment: [String: String]

    /// The shipped CLI, built beside the tests.
    static let setpoint = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        .appendingPathComponent("setpoint").path

    /// The lab, or nil when there is none; under CI=true its absence is a failure, never a skip.
    static func current() throws -> Lab? {
        let env = ProcessInfo.processInfo.environment
        guard let script = env["SETPOINT_LAB_SCRIPT"], let directory = env["SETPOINT_LAB_DIR"] else {
            if ["true", "1"].contains(env["CI"] ?? "") {
                Issue.record(
                    "no lab: scripts/test makes one (scripts/lab up 3) when it runs as root where network namespaces can be made"
                )
            }
            return nil
        }
        let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/inventory.json"))
        return Lab(
            script: script,
            inventory: try JSONDecoder().decode(Inventory.self, from: data),
            environment: [
                "SETPOINT_LAB_DIR": directory, "SETPOINT_LAB_PREFIX": env["SETPOINT_LAB_PREFIX"] ?? "splab",
                "PATH": env["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin",
            ]
        )
    }

    func host(_ name: String) -> Host { inventory.hosts.first { $0.name == name }! }

    /// `scripts/lab ARGS…`, to its end.
    func lab(
        _ arguments: [String],
        environment extra: [String: String] = [:],
        input: String? = nil
    ) async throws
        -> (status: Int32, stdout: String, stderr: String)
    {
        try await ChildProcess.run(
            [script] + arguments,
            environment: environment.merging(extra) { _, new in new },
            input: input
        )
    }

    /// The passwords of the lab's PostgreSQL servers, as the manifests' secret references read them.
    static let passwords = ["LAB_PG_PASSWORD": "lab-pg-secret", "LAB_REPLICATION_PASSWORD": "lab-repl-secret"]

    /// `scripts/lab postgres HOST`: a PostgreSQL 15 primary there, with `passwords`.
    func postgres(_ host: String) async throws {
        let made = try await lab(
            ["postgres", host],
            environment: [
                "SETPOINT_LAB_PG_PASSWORD": Self.passwords["LAB_PG_PASSWORD"]!,
                "SETPOINT_LAB_REPLICATION_PASSWORD": Self.passwords["LAB_REPLICATION_PASSWORD"]!,
            ]
        )
        guard made.status == 0 else { throw LabFailure("scripts/lab postgres \(host): \(made.stderr)") }
    }

    /// `setpoint ARGS…` in the ops namespace, from `directory` (its manifests and its `.setpoint/` state).
    func setpoint(
        _ arguments: [String],
        in directory: String,
        environment extra: [String: String] = [:]
    ) async throws
        -> (status: Int32, stdout: String, stderr: String)
    {
        try await ChildProcess.run(
            [script, "ops", Self.setpoint] + arguments,
            environment: environment.merging(extra) { _, new in new },
            workingDirectory: directory
        )
    }

    /// A command on a lab host (its namespaces and folders), e.g. to read PostgreSQL's view there.
    func on(_ host: String, _ argv: [String]) async throws -> String {
        let r = try await lab(["exec", host] + argv)
        guard r.status == 0 else {
            throw LabFailure("on \(host): \(argv.joined(separator: " ")) exited \(r.status): \(r.stderr)\(r.stdout)")
        }
        return r.stdout
    }

    /// One SQL query on a lab host's PostgreSQL (its socket in the host's /tmp), as postgres; rows as `a|b` lines.
    func sql(_ host: String, _ query: String) async throws -> [String] {
        try await on(host, ["runuser", "-u", "postgres", "--", "psql", "-h", "/tmp", "-At", "-c", query])
            .split(separator: "\n").map(String.init)
    }

    /// Host manifests for the lab's hosts, pinned to their keys, logged in with the lab's key (through `jumps[name]`
    /// for a host behind another).
    func hostsYAML(_ names: [String], overrides: [String: String] = [:], jumps: [String: String] = [:]) -> String {
        names.map { name in
            let h = host(name)
            return overrides[name]
                ?? """
                apiVersion: setpoint/v1
                kind: Host
                metadata: {name: \(name)}
                spec:
                  address: \(h.address)
                  ssh:
                    user: \(inventory.sshUser)
                    privateKey: {file: \(inventory.privateKey)}
                    hostKeys: ["\(h.hostKey)"]
                    connectTimeout: 5s\(jumps[name].map { "\n    jump: \($0)" } ?? "")

                """
        }.joined(separator: "---\n")
    }

    /// How many SSH logins a host's sshd has accepted so far (its log, LogLevel VERBOSE).
    func logins(_ host: String) throws -> Int {
        let log = "\(inventory.directory)/hosts/\(host)/var-log/sshd.log"
        return ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").components(separatedBy: "Accepted publickey")
            .count - 1
    }

    /// A fresh folder for one test's manifests and state.
    static func workspace(_ name: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "setpoint-lab-\(name)-\(UUID().uuidString)"
        )
        .path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }
}

struct LabFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
