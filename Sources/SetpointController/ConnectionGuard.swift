import Foundation
import HTTPTypes
public import NIOCore
import NIOHTTPTypes
import Synchronization

/// The controller's open HTTP connections, against ``ConnectionLimits/maxConnections``: who may be closed to make room,
/// and counts for `/metrics`.
public final class ConnectionRegistry: Sendable {
    public let limits: ConnectionLimits

    private struct Entry {
        var channel: any Channel
        /// Since when it has had no request in progress (nil while one is).
        var waitingSince: ContinuousClock.Instant?
        /// Since when it has been sending a request body (nil otherwise).
        var bodySince: ContinuousClock.Instant?
    }

    private struct State {
        var entries: [ObjectIdentifier: Entry] = [:]
        var accepted = 0
        var closed: [ConnectionCloseReason: Int] = [:]
    }

    private let state = Mutex(State())

    public init(limits: ConnectionLimits) { self.limits = limits }

    /// Admits a new connection. At the limit it closes the connection that has waited longest with no request in
    /// progress — else the one that has been sending a body longest (a slow-body client) — and admits this one; when
    /// every open connection has a request being answered it refuses this one (false: close it).
    func admit(_ channel: any Channel, now: ContinuousClock.Instant) -> Bool {
        let (admitted, victim): (Bool, (any Channel)?) = state.withLock { s in
            s.accepted += 1
            var victim: (any Channel)?
            if s.entries.count >= limits.maxConnections {
                func oldest(_ since: (Entry) -> ContinuousClock.Instant?) -> ObjectIdentifier? {
                    s.entries.compactMap { key, entry in since(entry).map { (key, $0) } }.min { $0.1 < $1.1 }?.0
                }
                guard let oldest = oldest(\.waitingSince) ?? oldest(\.bodySince) else {
                    s.closed[.refused, default: 0] += 1
                    return (false, nil)
                }
                victim = s.entries.removeValue(forKey: oldest)?.channel
                s.closed[.evicted, default: 0] += 1
            }
            s.entries[ObjectIdentifier(channel)] = Entry(channel: channel, waitingSince: now)
            return (true, victim)
        }
        victim?.close(promise: nil)
        return admitted
    }

    /// Marks a connection waiting for a request (since `since`), reading a body (`body`), or neither (its request
    /// is being answered).
    func mark(
        _ channel: any Channel,
        waitingSince: ContinuousClock.Instant? = nil,
        bodySince: ContinuousClock.Instant? = nil
    ) {
        state.withLock { s in
            s.entries[ObjectIdentifier(channel)]?.waitingSince = waitingSince
            s.entries[ObjectIdentifier(channel)]?.bodySince = bodySince
        }
    }

    func closed(_ channel: any Channel, reason: ConnectionCloseReason?) {
        state.withLock { s in
            guard s.entries.removeValue(forKey: ObjectIdentifier(channel)) != nil else { return }
            if let reason { s.closed[reason, default: 0] += 1 }
        }
    }

    /// Open connections now, connections accepted, and connections the controller closed, by reason.
    public var counts: (open: Int, accepted: Int, closed: [ConnectionCloseReason: Int]) {
        state.withLock { ($0.entries.count, $0.accepted, $0.closed) }
    }

    /// The handlers one connection's pipeline gets (a new pair per connection).
    func handlers() -> [any RemovableChannelHandler] { [ConnectionGuardHandler(registry: self)] }
}

/// Drives one connection's ``ConnectionStateMachine``: sits after the HTTP codec (request and response parts), adds a
/// small handler at the front of the pipeline that reports raw bytes, arms the one timer, and closes the connection
/// when the machine says so.
final class ConnectionGuardHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let registry: ConnectionRegistry
    private var machine: ConnectionStateMachine
    private var timer: Scheduled<Void>?
    private var context: ChannelHandlerContext?
    private var admitted = false

    init(registry: ConnectionRegistry) {
        self.registry = registry
        machine = ConnectionStateMachine(limits: registry.limits)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        try? context.pipeline.syncOperations.addHandler(BytesArrived(owner: self), position: .first)
        if context.channel.isActive { start(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        if admitted { registry.closed(context.channel, reason: nil) }
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        if admitted { registry.closed(context.channel, reason: nil) }
        admitted = false
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            let now = ContinuousClock.now
            registry.mark(context.channel, bodySince: now)
            run(machine.headReceived(now: now), context)
        case .body:
            break
        case .end:
            registry.mark(context.channel)
            run(machine.requestEnded(), context)
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let isEnd = if case .end = unwrapOutboundIn(data) { true } else { false }
        context.write(data, promise: promise)
        if isEnd {
            let now = ContinuousClock.now
            run(machine.responseEnded(now: now), context)
            if machine.isEvictable { registry.mark(context.channel, waitingSince: now) }
        }
    }

    /// From the front of the pipeline: bytes arrived, before any parsing.
    func bytesArrived() {
        guard let context else { return }
        run(machine.bytesReceived(now: .now), context)
    }

    private func start(_ context: ChannelHandlerContext) {
        guard !admitted else { return }
        let now = ContinuousClock.now
        guard registry.admit(context.channel, now: now) else {
            context.close(promise: nil)
            return
        }
        admitted = true
        run(machine.connected(now: now), context)
    }

    private func run(_ action: ConnectionStateMachine.Action, _ context: ChannelHandlerContext) {
        switch action {
        case .none:
            break
        case .cancelTimer:
            timer?.cancel()
            timer = nil
        case .schedule(let at):
            timer?.cancel()
            let delay = max(.zero, at - .now)
            timer = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(delay)) { [self] in
                timer = nil
                run(machine.timerFired(now: .now), context)
            }
        case .close(let reason):
            timer?.cancel()
            timer = nil
            if admitted {
                registry.closed(context.channel, reason: reason)
                admitted = false
            }
            context.close(promise: nil)
        }
    }

    /// Reports every read to its owner, then passes it on untouched.
    private final class BytesArrived: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        typealias InboundOut = ByteBuffer
        private let owner: ConnectionGuardHandler

        init(owner: ConnectionGuardHandler) { self.owner = owner }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            owner.bytesArrived()
            context.fireChannelRead(data)
        }
    }
}

@available(*, unavailable)
extension ConnectionGuardHandler: Sendable {}
