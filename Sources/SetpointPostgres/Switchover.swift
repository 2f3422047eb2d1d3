import Foundation
import SetpointCore
import SetpointExec
import SetpointPG

/// Moving the primary role: a planned switchover (the manifest names another primary) and a failover (the primary is
/// gone or must be fenced). Both promote, re-point the other replicas and set synchronous replication for the new
/// primary; a switchover also brings the old primary back as a replica when pg_rewind can run.
extension ClusterApplier {
    /// What a switchover or failover did, for the log and the audit.
    struct Handover: Sendable {
        var from: String
        var to: String
        var steps: [String] = []
        var duration: Duration = .zero
    }

    /// Checks the preconditions, then: stop the old primary cleanly, wait for the target to replay its last WAL, promote,
    /// re-point the others, rejoin the old primary (pg_rewind) or leave it stopped with the steps to bring it back.
    func switchover(to target: String) async throws -> Handover {
        let started = context.clock.elapsed
        let old = try primaryName()
        var h = Handover(from: old, to: target)
        guard old != target else { return h }
        let oldMember = try member(old)
        let targetMember = try member(target)
        guard let targetFacts = view.facts(target), targetFacts.inRecovery else {
            throw fail(
                "switchover refused: \(target) is \(ClusterObservation.describe(view.status[target])), not a running standby (nothing changed)"
            )
        }
        guard view.isStreaming(target, from: old) else {
            throw fail("switchover refused: \(target) does not stream from \(old) (nothing changed)")
        }
        let lag = view.facts(old)?.standbys.first { $0.applicationName == target }?.replayLag ?? 0
        guard lag <= settings.maxSwitchoverLag else {
            throw fail(
                "switchover refused: \(target)'s replay lag is \(Quantity(bytes: lag)), over maxSwitchoverLag \(Quantity(bytes: settings.maxSwitchoverLag)) "
                    + "(nothing changed); wait for it to catch up and apply again",
                transient: true
            )
        }
        let oldTools = try await control(for: oldMember)
        guard let oldDirectory = oldMember.dataDirectory ?? view.facts(old)?.dataDirectory else {
            throw fail("member \(old): no data directory known")
        }
        let canRewind = ClusterObservation.rewindable(view.facts(old)!)
        // 1. A checkpoint first makes the shutdown checkpoint quick; then a clean stop, which sends all WAL to the standbys.
        _ = try? await connection(old).query("CHECKPOINT")
        note("switchover \(old) → \(target): stopping \(old)")
        try await oldTools.stop(oldDirectory)
        h.steps.append("stopped \(old) (fast, clean)")
        // 2. The target must have everything the old primary wrote, up to its shutdown checkpoint.
        let targetDB = try connection(target)
        if let checkpoint = try await oldTools.latestCheckpoint(oldDirectory) {
            let deadline = context.clock.elapsed + .seconds(30)
            while true {
                let r = try await targetDB.query(
                    "SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS caught",
                    [checkpoint]
                )
                if r.first?.bool("caught") == true { break }
                if context.clock.elapsed > deadline {
                    // Undo: the old primary starts again as it was, nothing else has changed.
                    try? await oldTools.start(oldDirectory)
                    throw fail(
                        "switchover aborted: \(target) did not replay \(old)'s last WAL (\(checkpoint)) within 30 s; \(old) was started again as the primary"
                    )
                }
                try await context.clock.sleep(for: .milliseconds(20))
            }
            h.steps.append("\(target) replayed up to \(old)'s shutdown checkpoint \(checkpoint)")
        }
        // 3. Promote.
        try await promote(target)
        h.steps.append("promoted \(target)")
        // 4. Slots on the new primary, then the other replicas follow it.
        for m in settings.members where m.name != target && settings.useSlots {
            try await ensureSlot(ReplicaSpec.slotName(m.name), on: targetDB)
        }
        for m in settings.members where m.name != target && m.name != old && view.facts(m.name)?.inRecovery == true {
            try await repoint(m.name, to: targetMember, slot: settings.useSlots ? ReplicaSpec.slotName(m.name) : nil)
            h.steps.append("re-pointed \(m.name) at \(target)")
        }
        // 5. The old primary: rewound and started as a standby, or left stopped.
        if canRewind {
            note("rewinding \(old) onto \(target)")
            _ = try await oldTools.rewind(
                oldDirectory,
                source: settings.connection(to: targetMember),
                serverSource: settings.serverConnection(to: targetMember)
            )
            try await oldTools.writeStandbyConfig(
                oldDirectory,
                port: oldMember.port,
                primaryConninfo: MemberControl.primaryConninfo(
                    settings: settings,
                    primary: targetMember,
                    standby: old
                ),
                slot: settings.useSlots ? ReplicaSpec.slotName(old) : nil
            )
            try await oldTools.start(oldDirectory)
            h.steps.append("rejoined \(old) as a standby (pg_rewind)")
        } else {
            h.steps.append(
                "left \(old) stopped: it has neither wal_log_hints nor data checksums, so pg_rewind cannot run. To bring it back, "
                    + "empty \(oldDirectory) and apply again (it is re-made as a replica)"
            )
        }
        // 6. Everyone streams from the new primary, then synchronous replication is set for it.
        for m in settings.members where m.name != target && (m.name != old || canRewind) && (view.facts(m.name) != nil)
        {
            try await ReplicaBuilder(clock: context.clock).waitForStreaming(
                m.name,
                primary: targetDB,
                timeout: .seconds(60)
            )
        }
        if canRewind {
            try await dropStaleSlots(on: oldMember)
            h.steps.append("dropped \(old)'s stale slots")
        }
        try await setSynchronousAfterPromotion(primary: target)
        h.duration = context.clock.elapsed - started
        note("switchover \(old) → \(target) done in \(h.duration)")
        return h
    }

    /// `pg_promote()` on the target, waiting for it to leave recovery.
    func promote(_ name: String) async throws {
        let db = try connection(name)
        do {
            let r = try await db.query("SELECT pg_promote(true, 60) AS done")
            guard r.first?.bool("done") == true else {
                throw fail("\(name) did not leave recovery within 60 s of pg_promote()")
            }
        } catch let error as PGError {
            throw fail("promoting \(name) failed: \(error.message)")
        }
    }

    /// The new primary's `synchronous_standby_names` (it carries its old primary's copy, which may name itself).
    func setSynchronousAfterPromotion(primary: String) async throws {
        try await MemberOperations(clock: context.clock).setSynchronous(
            count: settings.synchronousCount,
            standbys: settings.synchronousCandidates(primary: primary),
            on: try connection(primary)
        )
    }

    /// The primary is gone or must be fenced: stop it if it still runs here, promote `target`, re-point the others.
    func failover(to target: String) async throws -> Handover {
        let started = context.clock.elapsed
        let old = view.writers.first { $0 != target } ?? settings.primary
        var h = Handover(from: old, to: target)
        guard let targetFacts = view.facts(target) else {
            throw fail(
                "failover refused: \(target) is \(ClusterObservation.describe(view.status[target])) (nothing changed)"
            )
        }
        let targetMember = try member(target)
        if targetFacts.inRecovery {
            // Fence first: a primary that still runs must not take writes after the promotion.
            if view.facts(old) != nil {
                let m = try member(old)
                guard let directory = m.dataDirectory ?? view.facts(old)?.dataDirectory else {
                    throw fail(
                        "failover refused: \(old) still runs and its data directory is unknown, so it cannot be fenced (nothing changed)"
                    )
                }
                try await (try await control(for: m)).stop(directory)
                h.steps.append("fenced \(old) (stopped)")
            } else {
                h.steps.append("\(old) is \(ClusterObservation.describe(view.status[old])): not fenced")
            }
            try await promote(target)
            h.steps.append("promoted \(target)")
        } else {
            h.steps.append("\(target) already accepts writes")
        }
        let db = try connection(target)
        for m in settings.members where m.name != target && settings.useSlots {
            try await ensureSlot(ReplicaSpec.slotName(m.name), on: db)
        }
        for m in settings.members where m.name != target && m.name != old && view.facts(m.name)?.inRecovery == true {
            try await repoint(m.name, to: targetMember, slot: settings.useSlots ? ReplicaSpec.slotName(m.name) : nil)
            try await ReplicaBuilder(clock: context.clock).waitForStreaming(
                m.name,
                primary: db,
                timeout: .seconds(60)
            )
            h.steps.append("re-pointed \(m.name) at \(target)")
        }
        // Synchronous replication only over standbys that stream now, so that commits on the new primary do not hang.
        let streaming = try await db.query("SELECT application_name FROM pg_stat_replication WHERE state = 'streaming'")
        let names = Set(streaming.records.compactMap { $0["application_name"] })
        let candidates = settings.synchronousCandidates(primary: target).filter { names.contains($0) }
        let count = min(settings.synchronousCount, candidates.count)
        try await MemberOperations(clock: context.clock).setSynchronous(
            count: count,
            standbys: candidates,
            on: db
        )
        h.steps.append(
            "synchronous_standby_names = '\(ParameterValues.synchronousStandbyNames(count: count, standbys: candidates))'"
        )
        h.duration = context.clock.elapsed - started
        return h
    }
}
