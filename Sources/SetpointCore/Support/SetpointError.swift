/// A runtime failure, thrown (manifest problems are diagnostics instead).
///
/// `Code` is a struct over a private enum so codes can be added without breaking callers; equality compares codes.
public struct SetpointError: Error, Sendable, CustomStringConvertible, Equatable {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case duplicateProvider, noProvider, observeFailed, applyFailed, notConverged, secretUnavailable, stateFailed
            case interrupted, dependencyFailed, planRefused, leaseHeld
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }
        public var description: String { base.rawValue }

        public static let duplicateProvider = Code(.duplicateProvider)
        public static let noProvider = Code(.noProvider)
        public static let observeFailed = Code(.observeFailed)
        public static let applyFailed = Code(.applyFailed)
        /// The action ran, but re-observing shows the system still differs.
        public static let notConverged = Code(.notConverged)
        public static let secretUnavailable = Code(.secretUnavailable)
        public static let stateFailed = Code(.stateFailed)
        public static let interrupted = Code(.interrupted)
        public static let dependencyFailed = Code(.dependencyFailed)
        public static let planRefused = Code(.planRefused)
        /// Another apply holds the state store's lease.
        public static let leaseHeld = Code(.leaseHeld)
    }

    public var code: Code
    /// A short phrase with context: "observe failed: VirtualMachine/api-1: connection refused".
    public var message: String
    public var resource: ResourceID?
    /// Transient failures (network, lock contention, 5xx) may be retried; terminal ones (permission, bad config) not.
    public var isTransient: Bool
    /// Retrying without a change cannot help (a refused parameter, a missing privilege, wrong credentials): the
    /// controller parks the resource until its manifest changes instead of backing off and retrying.
    public var isTerminal: Bool

    public init(
        _ code: Code,
        _ message: String,
        resource: ResourceID? = nil,
        isTransient: Bool = false,
        isTerminal: Bool = false
    ) {
        self.code = code
        self.message = message
        self.resource = resource
        self.isTransient = isTransient
        self.isTerminal = isTerminal && !isTransient
    }

    public var description: String { resource.map { "\($0): \(message)" } ?? message }

    public static func == (lhs: SetpointError, rhs: SetpointError) -> Bool { lhs.code == rhs.code }
}
