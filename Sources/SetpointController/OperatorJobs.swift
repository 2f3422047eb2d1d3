import Foundation
public import SetpointCore
import SetpointEngine
public import SetpointState
import Synchronization

/// Operator commands (`postgres failover`, `postgres reinit`) the leading controller carries out for a CLI that asks
/// through the API: under its lease and fencing epoch — never beside its own actions in the same lock domains — and
/// audited under the asking token's identity, as the CLI would record them. Jobs are kept in memory (the last 100).
public final class OperatorJobs: Sendable {
    public struct Job: Sendable, Codable, Equatable {
        public enum Status: String, Sendable, Codable { case running, succeeded, failed }
        public var job: String
        public var command: String
        public var resource: String
        public var arguments: [String: String]
        public var by: String
        public var startedAt: String
        public var finishedAt: String?
        public var status: Status
        /// What the command printed.
        public var lines: [String] = []
        public var error: String?
    }

    /// Why a command was not started, with the HTTP status the API answers.
    public typealias Refusal = LeaderRefusal

    let reconciler: Reconciler
    let store: any StateStore
    private let state = Mutex<(jobs: [String: Job], order: [String], tasks: [String: Task<Void, Never>])>(
        ([:], [], [:])
    )

    public init(reconciler: Reconciler, store: any StateStore) {
        self.reconciler = reconciler
        self.store = store
    }

    /// Starts `command` for `who`; refused when the resource is not declared, no provider takes the command, this
    /// controller follows, or its lock domains are taken.
    public func request(_ command: OperatorCommand, by who: String) throws -> Job {
        let clock = reconciler.configuration.clock
        let store = self.store
        // What the command occupies, and how it runs: `import` for any managed kind, the rest from the provider of the
        // kind (audited as the CLI audits them).
        let domains: [String]
        let work: @Sendable (Resource, ProviderContext) async throws -> OperatorCommandReport
        if command.name == "import" {
            guard
                let provider = (try? ProviderRegistry(reconciler.configuration.providers))?.provider(
                    for: command.resource.kind
                )
            else {
                throw Refusal(
                    reason: .invalid,
                    description: "this controller has no provider for \(command.resource.kind)"
                )
            }
            // The resource's own domain: never while the pass applies an action of it.
            domains = ["resource:\(command.resource)"]
            work = { resource, context in
                let line = try await ResourceImport.adopt(
                    resource,
                    id: command.arguments["id"],
                    provider: provider,
                    store: store,
                    context: context,
                    actor: who,
                    clock: clock,
                    how: "controller API"
                )
                return OperatorCommandReport(lines: [line], detail: [:])
            }
        } else {
            let provider = reconciler.configuration.providers.lazy.compactMap { $0 as? any OperatorCommands }.first {
                !$0.commands(for: command.resource.kind).isEmpty
            }
            guard let provider, let event = provider.commands(for: command.resource.kind)[command.name] else {
                throw Refusal(
                    reason: .invalid,
                    description: "\(command.resource.kind) takes no command \(command.name): it takes "
                        + ((provider?.commands(for: command.resource.kind).keys.sorted() ?? []) + ["import"]).joined(
                            separator: ", "
                        )
                )
            }
            if let problem = provider.problem(with: command) { throw Refusal(reason: .invalid, description: problem) }
            domains = provider.domains(of: command)
            work = { resource, context in
                var recorded: [String: Value] = command.arguments.mapValues(Value.string)
                recorded["resource"] = .string(command.resource.description)
                recorded["how"] = .string("controller API")
                var report = OperatorCommandReport(lines: [], detail: [:])
                _ = try await AuditedOperation.record(
                    store: store,
                    event: event,
                    actor: who,
                    clock: clock,
                    detail: recorded
                ) {
                    report = try await provider.run(command, on: resource, in: context)
                    return report.detail
                }
                return report
            }
        }
        guard let desired = reconciler.desired,
            let resource = desired.resources.first(where: { $0.id == command.resource && !$0.isOrphan })
        else {
            throw Refusal(
                reason: .notDeclared,
                description: "\(command.resource) is not declared in the manifests the controller reads"
            )
        }
        if let why = reconciler.notLeading { throw Refusal(reason: .notLeading, description: why) }
        let id = "op-" + UUID().uuidString.prefix(8).lowercased()
        if let taken = reconciler.claim(domains, for: "\(command.name) of \(command.resource) (job \(id)) by \(who)") {
            throw Refusal(reason: .busy, description: taken)
        }
        let job = Job(
            job: id,
            command: command.name,
            resource: command.resource.description,
            arguments: command.arguments,
            by: who,
            startedAt: Timestamp.seconds(clock.now),
            status: .running
        )
        state.withLock { s in
            s.jobs[id] = job
            s.order.append(id)
            // The last 100 are kept; finished ones go first.
            while s.order.count > 100, let old = s.order.first(where: { s.jobs[$0]?.status != .running }) {
                s.order.removeAll { $0 == old }
                s.jobs[old] = nil
            }
            s.tasks[id] = Task {
                var done = job
                do {
                    done.lines = try await work(resource, desired.context).lines
                    done.status = .succeeded
                } catch {
                    done.status = .failed
                    done.error = "\(error)"
                }
                done.finishedAt = Timestamp.seconds(clock.now)
                self.reconciler.release(domains)
                let finished = done
                self.state.withLock { s in
                    s.jobs[id] = finished
                    s.tasks[id] = nil
                }
            }
        }
        return job
    }

    public func job(_ id: String) -> Job? { state.withLock { $0.jobs[id] } }

    /// The jobs kept, newest first.
    public var recent: [Job] { state.withLock { s in s.order.reversed().compactMap { s.jobs[$0] } } }

    /// Waits for the commands in progress (a graceful stop lets them finish).
    public func drain() async {
        for task in state.withLock({ Array($0.tasks.values) }) { await task.value }
    }
}
