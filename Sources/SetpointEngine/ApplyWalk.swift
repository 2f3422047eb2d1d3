import SetpointCore

/// The applier's bookkeeping over the plan's DAG: which actions are pending, running and done. Pure.
///
/// Each pending action counts the dependencies it still waits for, so finding what is ready costs nothing per
/// completion beyond its dependents (10,000 actions stay linear).
struct ApplyWalk {
    private var byID: [ActionID: Action] = [:]
    private var order: [ActionID] = []
    private var position: [ActionID: Int] = [:]
    private var state: [ActionID: State] = [:]
    private var dependents: [ActionID: [ActionID]] = [:]
    private var waitingOn: [ActionID: Int] = [:]
    /// Pending actions with nothing left to wait for, by plan position (entries of actions that left the pending
    /// state are dropped when popped).
    private var readyHeap = MinHeap<Int>()

    enum State { case pending, running, succeeded, failed, skipped }

    init(actions: [Action]) {
        for (i, a) in actions.enumerated() {
            byID[a.id] = a
            order.append(a.id)
            position[a.id] = i
            state[a.id] = .pending
        }
        for a in actions {
            let deps = a.dependsOn.filter { byID[$0] != nil }
            waitingOn[a.id] = deps.count
            for dep in deps { dependents[dep, default: []].append(a.id) }
            if deps.isEmpty { readyHeap.push(position[a.id]!) }
        }
    }

    func action(_ id: ActionID) -> Action? { byID[id] }

    var pending: [Action] { order.filter { state[$0] == .pending }.map { byID[$0]! } }
    var runningIDs: [ActionID] { order.filter { state[$0] == .running } }

    /// Takes ready actions in plan order, at most `limit`, for which `admit` says yes (it may reserve resources such
    /// as concurrency domains); those it refuses stay ready. Each taken action is marked running.
    mutating func takeReady(limit: Int, admit: (Action) -> Bool) -> [Action] {
        var taken: [Action] = []
        var refused: [Int] = []
        while taken.count < limit, let p = readyHeap.pop() {
            let id = order[p]
            guard state[id] == .pending, waitingOn[id] == 0 else { continue }
            let action = byID[id]!
            if admit(action) {
                state[id] = .running
                taken.append(action)
            } else {
                refused.append(p)
            }
        }
        for p in refused { readyHeap.push(p) }
        return taken
    }

    /// Marks a pending action as started without the ready queue (to report it).
    mutating func markStarted(_ id: ActionID) { state[id] = .running }

    mutating func finish(_ id: ActionID, error: String?, report: inout ApplyReport, onEvent: (ApplyEvent) -> Void) {
        guard let action = byID[id] else { return }
        if let error {
            state[id] = .failed
            report.failed[id] = error
            onEvent(.failed(action, error))
            skipDependents(of: id, report: &report, onEvent: onEvent)
        } else {
            state[id] = .succeeded
            report.succeeded.append(id)
            for dependent in dependents[id] ?? [] where state[dependent] == .pending {
                waitingOn[dependent]! -= 1
                if waitingOn[dependent] == 0 { readyHeap.push(position[dependent]!) }
            }
        }
    }

    mutating func skip(_ id: ActionID, _ reason: SkipReason, report: inout ApplyReport, onEvent: (ApplyEvent) -> Void) {
        guard state[id] == .pending, let action = byID[id] else { return }
        state[id] = .skipped
        report.skipped[id] = reason
        onEvent(.skipped(action, reason))
        skipDependents(of: id, report: &report, onEvent: onEvent)
    }

    private mutating func skipDependents(of id: ActionID, report: inout ApplyReport, onEvent: (ApplyEvent) -> Void) {
        for dependent in dependents[id] ?? [] { skip(dependent, .dependency(id), report: &report, onEvent: onEvent) }
    }
}
