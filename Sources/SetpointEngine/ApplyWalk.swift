import SetpointCore

/// The applier's bookkeeping over the plan's DAG: which actions are pending, running and done. Pure.
struct ApplyWalk {
    private var byID: [String: Action] = [:]
    private var order: [String] = []
    private var state: [String: State] = [:]
    private var dependents: [String: [String]] = [:]

    enum State { case pending, running, succeeded, failed, skipped }

    init(actions: [Action]) {
        for a in actions {
            byID[a.id] = a
            order.append(a.id)
            state[a.id] = .pending
        }
        for a in actions { for dep in a.dependsOn where byID[dep] != nil { dependents[dep, default: []].append(a.id) } }
    }

    func action(_ id: String) -> Action? { byID[id] }

    var pending: [Action] { order.filter { state[$0] == .pending }.map { byID[$0]! } }
    var runningIDs: [String] { order.filter { state[$0] == .running } }

    /// Pending actions whose dependencies all succeeded, in plan order.
    func ready() -> [Action] {
        order.filter { id in
            state[id] == .pending && byID[id]!.dependsOn.allSatisfy { byID[$0] == nil || state[$0] == .succeeded }
        }.map { byID[$0]! }
    }

    mutating func markRunning(_ id: String) { state[id] = .running }

    mutating func finish(_ id: String, error: String?, report: inout ApplyReport, onEvent: (ApplyEvent) -> Void) {
        guard let action = byID[id] else { return }
        if let error {
            state[id] = .failed
            report.failed[id] = error
            onEvent(.failed(action, error))
            skipDependents(of: id, report: &report, onEvent: onEvent)
        } else {
            state[id] = .succeeded
            report.succeeded.append(id)
        }
    }

    mutating func skip(_ id: String, _ reason: SkipReason, report: inout ApplyReport, onEvent: (ApplyEvent) -> Void) {
        guard state[id] == .pending, let action = byID[id] else { return }
        state[id] = .skipped
        report.skipped[id] = reason
        onEvent(.skipped(action, reason))
        skipDependents(of: id, report: &report, onEvent: onEvent)
    }

    private mutating func skipDependents(of id: String, report: inout ApplyReport, onEvent: (ApplyEvent) -> Void) {
        for dependent in dependents[id] ?? [] { skip(dependent, .dependency(id), report: &report, onEvent: onEvent) }
    }
}
