import Foundation
public import SetpointCore
import SetpointExec
import SetpointPG

/// Everything needed to make one streaming replica from a primary.
public struct ReplicaSpec: Sendable {
    public var name: String
    /// Where the replica will listen.
    public var port: Int
    public var dataDirectory: String
    /// The primary, as the replica connects to it.
    public var primaryHost: String
    public var primaryPort: Int
    public var replicationUser: String
    /// Passed to pg_basebackup in its environment (PGPASSWORD), never on its command line.
    public var replicationPassword: String?
    /// Directory of pg_basebackup and pg_ctl (`/usr/lib/postgresql/15/bin`).
    public var binDirectory: String
    public var osUser: String
    public var useSlot: Bool

    public init(
        name: String,
        port: Int,
        dataDirectory: String,
        primaryHost: String,
        primaryPort: Int,
        replicationUser: String,
        replicationPassword: String? = nil,
        binDirectory: String,
        osUser: String = "postgres",
        useSlot: Bool = true
    ) {
        self.name = name
        self.port = port
        self.dataDirectory = dataDirectory
        self.primaryHost = primaryHost
        self.primaryPort = primaryPort
        self.replicationUser = replicationUser
        self.replicationPassword = replicationPassword
        self.binDirectory = binDirectory
        self.osUser = osUser
        self.useSlot = useSlot
    }

    /// The slot name for a member (slot names allow `[a-z0-9_]` only: `pg-2` → `pg_2`).
    public static func slotName(_ member: String) -> String {
        String(member.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }
}

/// Why a replica was not made; nothing was changed when these are thrown.
public struct ReplicaRefusal: Error, Sendable, CustomStringConvertible {
    public var member: String
    public var reason: String
    public var description: String { "\(member): \(reason)" }
}

/// Makes a streaming replica the way an operator would: a physical slot on the primary, `pg_basebackup -R -S -X stream`
/// into an empty data directory, its port written to `postgresql.auto.conf`, `pg_ctl start`, and done only when the
/// primary sees it streaming.
public struct ReplicaBuilder: Sendable {
    public let runner: any CommandRunner
    /// Durations and the wait for streaming read it.
    public let clock: any SetpointClock

    public init(runner: any CommandRunner = LocalRunner(), clock: any SetpointClock = SystemClock()) {
        self.runner = runner
        self.clock = clock
    }

    /// Refuses a data directory that holds anything: re-initialising a member destroys its data.
    public func checkEmpty(_ spec: ReplicaSpec) throws {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: spec.dataDirectory)) ?? []
        guard entries.isEmpty else {
            let what =
                entries.contains("PG_VERSION")
                ? "holds a PostgreSQL data directory"
                : "is not empty (\(entries.sorted().prefix(3).joined(separator: ", ")) …)"
            throw ReplicaRefusal(
                member: spec.name,
                reason: "\(spec.dataDirectory) \(what); a replica is only made in an empty directory — "
                    + "re-initialising a member destroys its data and needs an explicit, approved re-initialisation"
            )
        }
    }

    /// - Parameter primary: a connection to the primary (to create the slot and watch the replica arrive).
    /// - Returns: how long it took.
    @discardableResult
    public func create(
        _ spec: ReplicaSpec,
        primary: PGConnection,
        timeout: Duration = .seconds(120)
    ) async throws -> Duration {
        let start = clock.elapsed
        try checkEmpty(spec)
        let slot = ReplicaSpec.slotName(spec.name)
        if spec.useSlot {
            let existing = try await primary.query(
                "SELECT active FROM pg_replication_slots WHERE slot_name = $1",
                [slot]
            )
            if let row = existing.first {
                if row.bool("active") == true {
                    throw ReplicaRefusal(
                        member: spec.name,
                        reason: "replication slot \(slot) is in use by another standby"
                    )
                }
            } else {
                _ = try await primary.query("SELECT pg_create_physical_replication_slot($1)", [slot])
            }
        }
        var arguments = [
            "-h", spec.primaryHost, "-p", String(spec.primaryPort), "-U", spec.replicationUser, "-D",
            spec.dataDirectory,
            "-R", "-X", "stream", "-c", "fast", "-d", "application_name=\(spec.name)", "--no-password",
        ]
        if spec.useSlot { arguments += ["-S", slot] }
        let environment = spec.replicationPassword.map { ["PGPASSWORD": $0] } ?? [:]
        _ = try await runner.run(
            Command(
                "\(spec.binDirectory)/pg_basebackup",
                arguments,
                user: spec.osUser,
                environment: environment,
                timeout: timeout
            )
        )
        // The copy carries the primary's settings: the replica listens on its own port.
        _ = try await runner.run(
            Command(
                "/usr/bin/tee",
                ["-a", "\(spec.dataDirectory)/postgresql.auto.conf"],
                user: spec.osUser,
                input: "# Setpoint: member \(spec.name)\nport = \(spec.port)\n"
            )
        )
        try await startMember(dataDirectory: spec.dataDirectory, binDirectory: spec.binDirectory, osUser: spec.osUser)
        try await waitForStreaming(spec.name, primary: primary, timeout: timeout, logFile: logFile(spec.dataDirectory))
        return clock.elapsed - start
    }

    func logFile(_ dataDirectory: String) -> String { "\(dataDirectory)/setpoint-pg_ctl.log" }

    /// `pg_ctl start -w`, its log inside the member's data directory (see `MemberControl.start`).
    public func startMember(dataDirectory: String, binDirectory: String, osUser: String) async throws {
        try await MemberControl(runner: runner, binDirectory: binDirectory, osUser: osUser).start(dataDirectory)
    }

    /// Until the primary lists the member as streaming (`pg_stat_replication.state`).
    public func waitForStreaming(
        _ name: String,
        primary: PGConnection,
        timeout: Duration,
        logFile: String? = nil
    ) async throws {
        let deadline = clock.elapsed + timeout
        var delay = 10.0
        while clock.elapsed < deadline {
            let r = try await primary.query("SELECT state FROM pg_stat_replication WHERE application_name = $1", [name])
            if r.first?["state"] == "streaming" { return }
            try await clock.sleep(for: .milliseconds(Int(delay)))
            delay = min(250, delay * 1.3)
        }
        let tail =
            logFile.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) }.map {
                $0.split(separator: "\n").suffix(8).joined(separator: "\n    ")
            } ?? ""
        throw ReplicaRefusal(
            member: name,
            reason: "started, but not streaming from the primary after \(timeout)"
                + (tail.isEmpty ? "" : "; its log ends:\n    \(tail)")
        )
    }
}
