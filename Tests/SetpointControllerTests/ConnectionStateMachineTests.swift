import Testing

@testable import SetpointController

/// One API connection's deadlines, one event at a time.
@Suite(.timeLimit(.minutes(1))) struct ConnectionStateMachineTests {
    let limits = ConnectionLimits(
        headerTimeout: .seconds(10),
        bodyTimeout: .seconds(30),
        idleTimeout: .seconds(60),
        maxConnections: 4
    )
    let t0 = ContinuousClock.now

    @Test func aHeadMustArriveWithinTheHeaderTimeout() {
        var m = ConnectionStateMachine(limits: limits)
        #expect(m.connected(now: t0) == .schedule(t0 + .seconds(10)))
        #expect(m.isEvictable)
        // Bytes of an unfinished head change nothing: slowloris gains no time by trickling.
        #expect(m.bytesReceived(now: t0 + .seconds(9)) == .none)
        #expect(m.timerFired(now: t0 + .seconds(5)) == .schedule(t0 + .seconds(10)), "early: armed again")
        #expect(m.timerFired(now: t0 + .seconds(10)) == .close(.headerTimeout))
    }

    @Test func aRequestThenIdleThenTheNextRequestsHead() {
        var m = ConnectionStateMachine(limits: limits)
        _ = m.connected(now: t0)
        #expect(m.headReceived(now: t0 + .seconds(1)) == .schedule(t0 + .seconds(31)))
        #expect(!m.isEvictable, "a request in progress is never closed to make room")
        #expect(m.requestEnded() == .cancelTimer)
        #expect(m.timerFired(now: t0 + .seconds(500)) == .none, "a slow response is the controller's, not the client's")
        #expect(m.responseEnded(now: t0 + .seconds(2)) == .schedule(t0 + .seconds(62)))
        #expect(m.phase == .idle && m.isEvictable)
        // The next request's first byte starts its header timeout.
        #expect(m.bytesReceived(now: t0 + .seconds(20)) == .schedule(t0 + .seconds(30)))
        #expect(m.phase == .awaitingHead)
        #expect(m.timerFired(now: t0 + .seconds(30)) == .close(.headerTimeout))
    }

    @Test func idleAndBodyTimeoutsCloseWithTheirReason() {
        var idle = ConnectionStateMachine(limits: limits)
        _ = idle.connected(now: t0)
        _ = idle.headReceived(now: t0)
        _ = idle.requestEnded()
        _ = idle.responseEnded(now: t0)
        #expect(idle.timerFired(now: t0 + .seconds(60)) == .close(.idleTimeout))

        var body = ConnectionStateMachine(limits: limits)
        _ = body.connected(now: t0)
        _ = body.headReceived(now: t0)
        #expect(body.timerFired(now: t0 + .seconds(30)) == .close(.bodyTimeout))
    }

    @Test func pipelinedRequestsKeepTheConnectionBusyUntilTheLastResponse() {
        var m = ConnectionStateMachine(limits: limits)
        _ = m.connected(now: t0)
        _ = m.headReceived(now: t0)
        _ = m.requestEnded()
        _ = m.headReceived(now: t0)  // the second request arrives before the first response ends
        #expect(m.requestsInProgress == 2)
        _ = m.requestEnded()
        #expect(m.responseEnded(now: t0) == .none)
        #expect(m.responseEnded(now: t0) == .schedule(t0 + .seconds(60)))
    }
}
