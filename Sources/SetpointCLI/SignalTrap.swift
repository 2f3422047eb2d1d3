import Foundation
import SetpointEngine
import Synchronization

/// Set from the signal handler: the only thing it touches (an atomic store is async-signal-safe).
private let signalReceived = Atomic<Int32>(0)

/// SIGINT and SIGTERM set an `Interruption` instead of killing the process, for as long as the trap lives:
/// actions in flight finish and are recorded; nothing new starts.
///
/// The handler is installed synchronously with `sigaction` (a dispatch signal source registers asynchronously, and a
/// signal arriving before it does would be lost); a watcher task turns the flag into `Interruption.interrupt()`.
final class SignalTrap: Sendable {
    private final class Flag: Sendable {
        let value = Atomic<Bool>(false)
    }

    private let stopped = Flag()

    init(interruption: Interruption) {
        _ = signalReceived.load(ordering: .relaxed)  // initialise the global before a signal can arrive
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { sig in signalReceived.store(sig, ordering: .relaxed) }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        sigaction(SIGINT, &action, nil)
        sigaction(SIGTERM, &action, nil)
        let stopped = self.stopped
        Thread.detachNewThread {
            while !stopped.value.load(ordering: .relaxed) {
                if signalReceived.load(ordering: .relaxed) != 0 {
                    interruption.interrupt()
                    return
                }
                usleep(20_000)
            }
        }
    }

    func cancel() {
        stopped.value.store(true, ordering: .relaxed)
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
