import Foundation
import SetpointCore
import SetpointEngine
import SetpointState
import SetpointTesting
import Synchronization
import Testing

/// The one clock in virtual time: `ManualClock` itself, and the lease's waiting, renewal and expiry driven by it —
/// seconds and minutes of lease time pass without the test sleeping.
@Suite(.timeLimit(.minutes(3))) struct VirtualTimeTests {
    static let start = Timestamp.parse("2026-12-07T12:00:00Z")!

    /// Yields until `count` tasks sleep on the clock (the subject reached its next wait); fails after a bounded spin.
    static func waitForSleepers(
        _ clock: ManualClock,
        _ count: Int,
        sourceLocation: Testing.SourceLocation = #_sourceLocation
    )
        async
    {
        // Short real sleeps, not bare yields: on a loaded two-core machine a yield loop can keep the awaited task from
        // running for long. Bounded (10 s): a sleeper that never comes is reported, not waited for.
        let patience = ContinuousClock.now + .seconds(10)
        while clock.sleeping < count, ContinuousClock.now < patience {
            try? await Task.sleep(for: .milliseconds(1))
        }
        #expect(clock.sleeping >= count, "waited for \(count) sleepers", sourceLocation: sourceLocation)
    }

    @Test func advancingWakesSleepersInDeadlineOrderAndMovesBothTimes() async throws {
        let clock = ManualClock(now: Self.start)
        let woke = LockedList()
        let tasks = [3, 1, 2].map { n in
            Task {
                try await clock.sleep(for: .seconds(n))
                woke.append(n)
            }
        }
        await Self.waitForSleepers(clock, 3)
        await clock.advance(by: .milliseconds(999))
        #expect(woke.items.isEmpty, "nothing is due before a second")
        await clock.advance(by: .seconds(5))
        for t in tasks { try await t.value }
        #expect(woke.items == [1, 2, 3])
        #expect(clock.elapsed == .milliseconds(5999))
        #expect(clock.now == Self.start.addingTimeInterval(5.999), "wall-clock time moved with it")
    }

    @Test func aCancelledSleepThrows() async throws {
        let clock = ManualClock(now: Self.start)
        let sleeper = Task { try await clock.sleep(for: .seconds(60)) }
        await Self.waitForSleepers(clock, 1)
        sleeper.cancel()
        await #expect(throws: CancellationError.self) { try await sleeper.value }
        #expect(clock.sleeping == 0)
    }

    @Test func aSecondApplyWaitsItsTimeoutInVirtualTimeAndNamesTheHolder() async throws {
        let clock = ManualClock(now: Self.start)
        let store = InMemoryStateStore()
        let first = try await LeaseKeeper.acquire(store, timeout: .zero, ttl: .seconds(30), clock: clock)
        #expect(first.holder.expiresAt == "2026-12-07T12:00:30.000Z")
        let second = Task {
            try await LeaseKeeper.acquire(store, timeout: .seconds(2), ttl: .seconds(30), clock: clock)
        }
        // The first keeper's renewal and the second's poll both sleep on the clock.
        for _ in 0..<8 {
            await Self.waitForSleepers(clock, 2)
            await clock.advance(by: .milliseconds(250))
        }
        let refused = await #expect(throws: SetpointError.self) { try await second.value }
        #expect(
            refused?.code == .leaseHeld && refused?.message.contains(first.holder.description) == true,
            "\(refused?.message ?? "")"
        )
        await first.release()
    }

    @Test func theLeaseIsRenewedEveryThirdOfItsTTLAndADeadHoldersLeaseExpires() async throws {
        let clock = ManualClock(now: Self.start)
        let store = InMemoryStateStore()
        let keeper = try await LeaseKeeper.acquire(store, timeout: .zero, ttl: .seconds(30), clock: clock)
        await Self.waitForSleepers(clock, 1)
        await clock.advance(by: .seconds(10))
        await Self.waitForSleepers(clock, 1)  // renewed, and asleep until the next renewal
        #expect(await store.currentLease?.expiresAt == "2026-12-07T12:00:40.000Z", "renewed at a third of the TTL")
        await keeper.release()

        // A holder on another host that stopped renewing: its lease runs out 30 s after it was last written.
        let dead = LeaseHolder(
            id: "dead",
            host: "elsewhere",
            pid: 1,
            since: "2026-12-07T12:00:10.000Z",
            expiresAt: "2026-12-07T12:00:40.000Z"
        )
        #expect(try await store.acquireLease(dead, now: "2026-12-07T12:00:10.000Z") == nil)
        let waiting = Task {
            try await LeaseKeeper.acquire(store, timeout: .seconds(60), ttl: .seconds(30), clock: clock)
        }
        var steps = 0
        while await store.currentLease?.id == "dead", steps < 200 {
            await Self.waitForSleepers(clock, 1)
            await clock.advance(by: .milliseconds(250))
            steps += 1
        }
        let taken = try await waiting.value
        #expect(taken.holder.id != "dead")
        #expect(clock.now >= Timestamp.parse("2026-12-07T12:00:40Z")!, "not before the dead holder's lease ran out")
        #expect(clock.now < Timestamp.parse("2026-12-07T12:00:41Z")!, "at its next look after that")
        await taken.release()
    }
}

/// A list appended to from several tasks.
final class LockedList: Sendable {
    private let storage = Mutex<[Int]>([])
    func append(_ n: Int) { storage.withLock { $0.append(n) } }
    var items: [Int] { storage.withLock { $0 } }
}
