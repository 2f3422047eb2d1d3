import Foundation
public import SetpointCore
import SetpointExec
import SetpointPG
public import SetpointRemote

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
    /// Passed to pg_basebackup in a passfile on the replica's host (removed afterwards), never on its command line.
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
    /// The replica's host: where pg_basebackup and pg_ctl run and the data directory is.
    public let access: HostAccess
    /// Durations and the wait for streaming read it.
    public let clock: any SetpointClock

    public init(access: HostAccess = .local, clock: any SetpointClock = SystemClock()) {
        self.access = access
        self.clock = clock
    }

    var runner: any CommandRunner { access.runner }

    /// Refuses a data directory that holds anything: re-initialising a member destroys its data.
    public func checkEmpty(_ spec: ReplicaSpec) async throws {
        let entries = try await access.files.acting(as: spec.osUser).list(spec.dataDirectory) ?? []
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
        timeout: Duration = .seconds(120),
        copyDeadline: Duration = .seconds(6 * 3600),
        journal: (any ActionJournal)? = nil
    ) async throws -> Duration {
        let start = clock.elapsed
        let job = Self.job(spec, access: access)
        // A copy that an earlier run started (a dropped connection, a killed Setpoint) is attached to, never repeated.
        let resuming = try await job.state() != .none
        if !resuming { try await checkEmpty(spec) }
        let slot = ReplicaSpec.slotName(spec.name)
        if spec.useSlot {
            let existing = try await primary.query(
                "SELECT active FROM pg_replication_slots WHERE slot_name = $1",
                [slot]
            )
            if let row = existing.first {
                // A copy still running streams its WAL through the slot.
                if row.bool("active") == true && !resuming {
                    throw ReplicaRefusal(
                        member: spec.name,
                        reason: "replication slot \(slot) is in use by another standby"
                    )
                }
            } else {
                _ = try await primary.query("SELECT pg_create_physical_replication_slot($1)", [slot])
            }
        }
        let source = [
            ("host", spec.primaryHost), ("port", String(spec.primaryPort)), ("user", spec.replicationUser),
            ("application_name", spec.name),
        ]
        // pg_basebackup as a job on the replica's host: detached, its PID and status kept there, the password in a
        // passfile inside the job's folder that the host removes when the copy ends — never on a command line.
        var arguments = [
            "-d",
            MemberControl.conninfo(source + (spec.replicationPassword == nil ? [] : [("passfile", job.secretFile)])),
            "-D", spec.dataDirectory, "-X", "stream", "-c", "fast", "--no-password",
        ]
        if spec.useSlot { arguments += ["-S", slot] }
        try await job.run(
            Command("\(spec.binDirectory)/pg_basebackup", arguments, user: spec.osUser),
            deadline: copyDeadline,
            secret: try spec.replicationPassword.map(access.passfile),
            started: { pid in
                try await journal?.record(
                    "job \(spec.name)",
                    "pg_basebackup on \(access.name): pid \(pid), job \(job.folder)"
                )
            }
        )
        // The copy carries the primary's settings: the replica listens on its own port and follows the primary (the
        // password in primary_conninfo, as -R would write it: the file is the postgres user's alone). Written once,
        // even when a resumed run gets here again.
        let conninfo = MemberControl.conninfo(
            source + (spec.replicationPassword.map { [("password", $0)] } ?? [])
        )
        let marker = "# Setpoint: member \(spec.name)\n"
        let autoConf = "\(spec.dataDirectory)/postgresql.auto.conf"
        if try await access.files.acting(as: spec.osUser).read(autoConf)?.contains(marker) != true {
            var settings = marker + "port = \(spec.port)\n"
            settings += "primary_conninfo = '\(conninfo.replacingOccurrences(of: "'", with: "''"))'\n"
            if spec.useSlot { settings += "primary_slot_name = '\(slot)'\n" }
            _ = try await runner.run(
                Command("/usr/bin/tee", ["-a", autoConf], user: spec.osUser, timeout: .seconds(30), input: settings)
            )
        }
        _ = try await runner.run(
            Command(
                "/usr/bin/touch",
                ["\(spec.dataDirectory)/standby.signal"],
                user: spec.osUser,
                timeout: .seconds(30)
            )
        )
        try await startMember(dataDirectory: spec.dataDirectory, binDirectory: spec.binDirectory, osUser: spec.osUser)
        try await waitForStreaming(
            spec.name,
            primary: primary,
            timeout: timeout,
            logFile: logFile(spec.dataDirectory),
            osUser: spec.osUser
        )
        try await job.clear()
        return clock.elapsed - start
    }

    func logFile(_ dataDirectory: String) -> String { "\(dataDirectory)/setpoint-pg_ctl.log" }

    /// The job a replica's pg_basebackup runs as: its folder beside the data directory (same file system, so it
    /// outlives a reboot as the copy does), owned by the server's user.
    static func job(_ spec: ReplicaSpec, access: HostAccess) -> RemoteJob {
        RemoteJob(access: access, folder: jobFolder(spec.dataDirectory), user: spec.osUser)
    }

    static func jobFolder(_ dataDirectory: String) -> String {
        (dataDirectory.hasSuffix("/") ? String(dataDirectory.dropLast()) : dataDirectory) + ".setpoint-job"
    }

    /// `pg_ctl start -w`, its log inside the member's data directory (see `MemberControl.start`).
    public func startMember(dataDirectory: String, binDirectory: String, osUser: String) async throws {
        try await MemberControl(access: access, binDirectory: binDirectory, osUser: osUser).start(dataDirectory)
    }

    /// Until the primary lists the member as streaming (`pg_stat_replication.state`).
    public func waitForStreaming(
        _ name: String,
        primary: PGConnection,
        timeout: Duration,
        logFile: String? = nil,
        osUser: String? = nil
    ) async throws {
        let deadline = clock.elapsed + timeout
        var delay = 10.0
        while clock.elapsed < deadline {
            let r = try await primary.query("SELECT state FROM pg_stat_replication WHERE application_name = $1", [name])
            if r.first?["state"] == "streaming" { return }
            try await clock.sleep(for: .milliseconds(Int(delay)))
            delay = min(250, delay * 1.3)
        }
        var tail = ""
        if let logFile, let text = try? await access.files.acting(as: osUser).read(logFile) {
            tail = text.split(separator: "\n").suffix(8).joined(separator: "\n    ")
        }
        throw ReplicaRefusal(
            member: name,
            reason: "started, but not streaming from the primary after \(timeout)"
                + (tail.isEmpty ? "" : "; its log ends:\n    \(tail)")
        )
    }
}
