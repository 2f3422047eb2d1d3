import Foundation
public import SetpointCore
import SetpointExec
import SetpointPG
public import SetpointRemote

/// The operations on a member that removal, switchover and failover are made of: stop, promote, drop a replica's
/// slot, and synchronous replication from a declared count.
public struct MemberOperations: Sendable {
    /// The member's host: where pg_ctl runs.
    public let access: HostAccess
    /// Waits (a slot still in use) sleep on it.
    public let clock: any SetpointClock

    public init(access: HostAccess = .local, clock: any SetpointClock = SystemClock()) {
        self.access = access
        self.clock = clock
    }

    /// `pg_ctl stop -m MODE -w` (fast: clean shutdown, clients disconnected).
    public func stop(dataDirectory: String, binDirectory: String, osUser: String, mode: String = "fast") async throws {
        try await MemberControl(access: access, binDirectory: binDirectory, osUser: osUser).stop(
            dataDirectory,
            mode: mode
        )
    }

    /// `pg_ctl promote -w`: the standby leaves recovery on a new timeline.
    public func promote(dataDirectory: String, binDirectory: String, osUser: String) async throws {
        _ = try await access.runner.run(
            Command(
                "\(binDirectory)/pg_ctl",
                ["-D", dataDirectory, "-w", "-t", "60", "promote"],
                user: osUser,
                timeout: .seconds(90)
            )
        )
    }

    /// Drops a replica's slot on the primary once nothing uses it (waiting up to `timeout` for the standby to go).
    /// - Returns: false when there was no such slot.
    @discardableResult
    public func dropSlot(
        _ slot: String,
        on primary: PGConnection,
        timeout: Duration = .seconds(30)
    ) async throws -> Bool {
        let deadline = clock.elapsed + timeout
        while true {
            let r = try await primary.query("SELECT active FROM pg_replication_slots WHERE slot_name = $1", [slot])
            guard let row = r.first else { return false }
            if row.bool("active") != true {
                _ = try await primary.query("SELECT pg_drop_replication_slot($1)", [slot])
                return true
            }
            guard clock.elapsed < deadline else {
                throw ReplicaRefusal(
                    member: slot,
                    reason: "replication slot \(slot) is still in use after \(timeout): a standby is connected to it"
                )
            }
            try await clock.sleep(for: .milliseconds(100))
        }
    }

    /// Removes a replica from the cluster: stops it and drops its slot. Its data directory is kept (and returned).
    public func removeReplica(_ spec: ReplicaSpec, primary: PGConnection) async throws -> String {
        try await stop(dataDirectory: spec.dataDirectory, binDirectory: spec.binDirectory, osUser: spec.osUser)
        if spec.useSlot { try await dropSlot(ReplicaSpec.slotName(spec.name), on: primary) }
        return spec.dataDirectory
    }

    /// `synchronous_standby_names = 'ANY n ("a", "b")'` on the primary (empty for none), through ALTER SYSTEM + reload.
    public func setSynchronous(count: Int, standbys: [String], on primary: PGConnection) async throws {
        let value = ParameterValues.synchronousStandbyNames(count: count, standbys: standbys)
        _ = try await ParameterWriter(clock: clock).apply(
            ["synchronous_standby_names": value.isEmpty ? nil : value],
            on: primary
        )
    }
}
