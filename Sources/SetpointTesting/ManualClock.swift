public import FoundationEssentials
public import SetpointCore
import Synchronization

/// A clock tests move by hand: `advance(by:)` moves wall-clock and monotonic time together and wakes every sleeper
/// whose deadline it passed, in deadline order. Nothing waits for real time, so schedules, backoff, lease renewal and
/// expiry are tested in virtual time.
///
/// ```swift
/// let clock = ManualClock(now: Timestamp.parse("2026-03-29T00:30:00Z")!)
/// async let slept: Void = clock.sleep(for: .seconds(60))
/// await clock.advance(by: .seconds(60))        // the sleeper wakes
/// ```
public final class ManualClock: SetpointClock {
    private struct Sleeper {
        var deadline: Duration
        var id: Int
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var wallOrigin: Date
        var elapsed: Duration = .zero
        var sleepers: [Sleeper] = []
        var nextID = 0
    }

    private let state: Mutex<State>

    public init(now: Date = Date(timeIntervalSince1970: 1_796_688_000)) { state = Mutex(State(wallOrigin: now)) }

    public var now: Date {
        state.withLock { s in
            s.wallOrigin.addingTimeInterval(s.elapsed.inSeconds)
        }
    }

    public var elapsed: Duration { state.withLock { $0.elapsed } }

    /// How many tasks are asleep on this clock (a test waits for its subject to go to sleep before advancing).
    public var sleeping: Int { state.withLock { $0.sleepers.count } }

    public func sleep(for duration: Duration) async throws {
        let id = state.withLock { s in
            s.nextID += 1
            return s.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow = state.withLock { s -> Bool in
                    if duration <= .zero || Task.isCancelled { return true }
                    s.sleepers.append(Sleeper(deadline: s.elapsed + duration, id: id, continuation: continuation))
                    return false
                }
                if resumeNow {
                    if Task.isCancelled {
                        continuation.resume(throwing: CancellationError())
                    } else {
                        continuation.resume()
                    }
                }
            }
        } onCancel: {
            let sleeper = state.withLock { s -> Sleeper? in
                guard let i = s.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return s.sleepers.remove(at: i)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves both times forward and wakes the sleepers whose deadline is reached, earliest first; each woken task
    /// gets the chance to run (and sleep again) before the next is woken.
    public func advance(by duration: Duration) async {
        let target = state.withLock { $0.elapsed + duration }
        while true {
            let next = state.withLock { s -> Sleeper? in
                guard let i = s.sleepers.indices.min(by: { s.sleepers[$0].deadline < s.sleepers[$1].deadline }),
                    s.sleepers[i].deadline <= target
                else { return nil }
                s.elapsed = max(s.elapsed, s.sleepers[i].deadline)
                return s.sleepers.remove(at: i)
            }
            guard let next else { break }
            next.continuation.resume()
            await Task.yield()
        }
        state.withLock { $0.elapsed = target }
    }

    /// Sets wall-clock time (a jump, as NTP or a DST test wants); monotonic time does not move.
    public func setWallClock(to date: Date) {
        state.withLock { s in
            s.wallOrigin = date.addingTimeInterval(-s.elapsed.inSeconds)
        }
    }
}
