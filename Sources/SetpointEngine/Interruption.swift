import Synchronization

/// A flag set by SIGINT/SIGTERM (or a test): the applier starts nothing new once it is set.
public final class Interruption: Sendable {
    private let flag = Atomic<Bool>(false)

    public init() {}

    public func interrupt() { flag.store(true, ordering: .sequentiallyConsistent) }
    public var isInterrupted: Bool { flag.load(ordering: .sequentiallyConsistent) }
}
