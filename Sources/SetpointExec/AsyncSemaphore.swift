import Synchronization

/// At most `limit` holders at once; the others wait in order, without blocking a thread. A waiter whose task is
/// cancelled leaves the queue and throws `CancellationError`.
final class AsyncSemaphore: Sendable {
    private struct State {
        var available: Int
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
        var nextID: UInt64 = 0
    }
    private let state: Mutex<State>

    init(_ limit: Int) { state = Mutex(State(available: limit)) }

    func acquire() async throws {
        let id = state.withLock { s -> UInt64? in
            if s.available > 0 {
                s.available -= 1
                return nil
            }
            s.nextID += 1
            return s.nextID
        }
        guard let id else { return }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                // Decided again under the lock: a slot freed since the first look is taken, not waited for.
                let outcome = state.withLock { s -> Result<Bool, CancellationError> in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if s.available > 0 {
                        s.available -= 1
                        return .success(true)
                    }
                    s.waiters.append((id, c))
                    return .success(false)
                }
                switch outcome {
                case .failure(let e): c.resume(throwing: e)
                case .success(true): c.resume()
                case .success(false): break
                }
            }
        } onCancel: {
            let c = state.withLock { s -> CheckedContinuation<Void, any Error>? in
                guard let i = s.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return s.waiters.remove(at: i).continuation
            }
            c?.resume(throwing: CancellationError())
        }
    }

    func release() {
        let next = state.withLock { s -> CheckedContinuation<Void, any Error>? in
            if s.waiters.isEmpty {
                s.available += 1
                return nil
            }
            return s.waiters.removeFirst().continuation
        }
        next?.resume()
    }
}
