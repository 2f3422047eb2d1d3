/// How long one HTTP connection may take at each step, and how many may be open at once.
///
/// A client that opens a connection and sends its request head slowly, or not at all, holds a socket and a file
/// descriptor; a thousand of them used to exhaust the controller's open files. Each connection must now send its
/// request head within ``headerTimeout`` of connecting (or of its first byte after an idle wait), its body within
/// ``bodyTimeout``, and may wait idle between requests for ``idleTimeout``; at most ``maxConnections`` are open.
public struct ConnectionLimits: Sendable, Equatable {
    /// From the connection (or the first byte of a later request) to the end of the request head.
    public var headerTimeout: Duration
    /// From the end of the head to the end of the body.
    public var bodyTimeout: Duration
    /// Between the end of a response and the first byte of the next request.
    public var idleTimeout: Duration
    /// Open connections at most. A new one beyond it closes the connection that has waited longest without a request in
    /// progress (a slow or idle client), so a flood of slow clients cannot lock out a quick one; when every connection
    /// is busy, the new one is closed.
    public var maxConnections: Int

    public init(
        headerTimeout: Duration = .seconds(10),
        bodyTimeout: Duration = .seconds(30),
        idleTimeout: Duration = .seconds(60),
        maxConnections: Int = 512
    ) {
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
    }
}

/// Why the controller closed a connection (the `reason` label of `setpoint_http_connections_closed_total`).
public enum ConnectionCloseReason: String, Sendable, CaseIterable {
    case headerTimeout = "header_timeout"
    case bodyTimeout = "body_timeout"
    case idleTimeout = "idle_timeout"
    /// Closed to admit a new connection while at the limit (it had no request in progress).
    case evicted
    /// Closed at once: at the limit, with every open connection busy.
    case refused
}

/// One connection's deadlines: events in, what to do out. Pure — the clock's readings come in with the events — and
/// driven by ``ConnectionGuardHandler``.
struct ConnectionStateMachine {
    enum Phase: Equatable {
        /// Waiting for a request head to complete (since the connection or the request's first byte).
        case awaitingHead
        /// Reading a request's body.
        case readingBody
        /// A request was read; its response is being made or written.
        case responding
        /// Between requests: no byte of the next one yet.
        case idle
    }

    enum Action: Equatable {
        case none
        /// (Re)arm the one timer at this instant.
        case schedule(ContinuousClock.Instant)
        case cancelTimer
        case close(ConnectionCloseReason)
    }

    let limits: ConnectionLimits
    private(set) var phase = Phase.awaitingHead
    private(set) var deadline: ContinuousClock.Instant?
    /// Requests read whose response has not ended (HTTP/1.1 pipelining can make it more than one).
    private(set) var requestsInProgress = 0

    init(limits: ConnectionLimits) { self.limits = limits }

    /// No request is in progress: the connection may be closed to make room for another.
    var isEvictable: Bool { phase == .awaitingHead || phase == .idle }

    mutating func connected(now: ContinuousClock.Instant) -> Action {
        phase = .awaitingHead
        return arm(now + limits.headerTimeout)
    }

    /// Bytes arrived (before parsing): after an idle wait they start the next request's head.
    mutating func bytesReceived(now: ContinuousClock.Instant) -> Action {
        guard phase == .idle else { return .none }
        phase = .awaitingHead
        return arm(now + limits.headerTimeout)
    }

    mutating func headReceived(now: ContinuousClock.Instant) -> Action {
        requestsInProgress += 1
        phase = .readingBody
        return arm(now + limits.bodyTimeout)
    }

    mutating func requestEnded() -> Action {
        guard phase == .readingBody else { return .none }
        phase = .responding
        deadline = nil
        return .cancelTimer
    }

    mutating func responseEnded(now: ContinuousClock.Instant) -> Action {
        requestsInProgress = max(0, requestsInProgress - 1)
        guard requestsInProgress == 0, phase == .responding else { return .none }
        phase = .idle
        return arm(now + limits.idleTimeout)
    }

    /// The timer fired: close when its deadline has passed in a phase that waits for the client.
    mutating func timerFired(now: ContinuousClock.Instant) -> Action {
        guard let deadline else { return .none }
        guard now >= deadline else { return .schedule(deadline) }
        switch phase {
        case .awaitingHead: return .close(.headerTimeout)
        case .readingBody: return .close(.bodyTimeout)
        case .idle: return .close(.idleTimeout)
        case .responding: return .none
        }
    }

    private mutating func arm(_ at: ContinuousClock.Instant) -> Action {
        deadline = at
        return .schedule(at)
    }
}
