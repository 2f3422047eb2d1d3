import Foundation
public import Logging
public import ServiceLifecycle
import SetpointCore
import SetpointEngine

/// `setpoint controller`: a pass on an interval (with jitter, so that several controllers do not pass in step), and at
/// once when the manifests change (checked every second) or a verified push webhook asks for one. SIGTERM lets the pass in flight finish its started actions,
/// starts no new one, waits for the backup runs in progress, and returns.
public struct ControllerService: Service {
    public let reconciler: Reconciler
    public let interval: Duration
    public let logger: Logger
    /// Called after every pass (the API and metrics read it; tests wait on it).
    public let onPass: @Sendable (PassReport) -> Void
    /// Runs the policies' schedules beside the passes, looking every `scheduleTick`.
    public let scheduler: BackupScheduler?
    public let scheduleTick: Duration
    /// Records the resources' conditions in the state after each pass this controller leads.
    public let conditions: ConditionRecorder?
    /// Operator commands in progress: a graceful stop waits for them before the lease is given up.
    public let operators: OperatorJobs?

    public init(
        reconciler: Reconciler,
        interval: Duration,
        logger: Logger,
        scheduler: BackupScheduler? = nil,
        scheduleTick: Duration = .seconds(15),
        conditions: ConditionRecorder? = nil,
        operators: OperatorJobs? = nil,
        onPass: @escaping @Sendable (PassReport) -> Void = { _ in }
    ) {
        self.conditions = conditions
        self.operators = operators
        self.reconciler = reconciler
        self.interval = interval
        self.logger = logger
        self.scheduler = scheduler
        self.scheduleTick = scheduleTick
        self.onPass = onPass
    }

    public func run() async throws {
        let reconciler = self.reconciler
        let scheduler = self.scheduler
        let tick = scheduleTick
        let ticker = scheduler.map { s in Task { await s.loop(every: tick) } }
        try await withGracefulShutdownHandler {
            var digest = reconciler.manifestDigest()
            let clock = reconciler.configuration.clock
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                let started = clock.elapsed
                var report = await reconciler.pass()
                let took = clock.elapsed - started
                report.seconds = took.inSeconds
                log(report, took: took)
                onPass(report)
                let logger = self.logger
                await conditions?.record { logger.warning("\($0)") }
                digest = reconciler.manifestDigest()
                // Sleep out the interval ±10 %, waking early for a manifest change or a shutdown.
                let seconds = interval.inSeconds
                let deadline = clock.elapsed + .milliseconds(Int64(seconds * 1000 * Double.random(in: 0.9...1.1)))
                while clock.elapsed < deadline && !Task.isShuttingDownGracefully && !Task.isCancelled {
                    try? await clock.sleep(for: .milliseconds(min(1000, max(10, Int64(seconds * 1000 / 10)))))
                    if let now = reconciler.manifestDigest(), now != digest {
                        logger.info("manifests changed: reconciling now")
                        break
                    }
                    if let why = reconciler.takeWake() {
                        logger.info("\(why): reconciling now")
                        break
                    }
                }
            }
        } onGracefulShutdown: {
            reconciler.stop()
            scheduler?.stop()
        }
        scheduler?.stop()
        ticker?.cancel()
        await scheduler?.drain()
        await operators?.drain()
        await reconciler.resign()
    }

    func log(_ r: PassReport, took: Duration) {
        var metadata: Logger.Metadata = ["took": "\(took)"]
        if let id = r.planID { metadata["plan"] = "\(id)" }
        if let held = r.leaseHeldBy {
            logger.info("following: \(held)", metadata: metadata)
            return
        }
        if let moved = r.gitMoved { logger.notice("git: \(moved)", metadata: metadata) }
        if let problem = r.gitProblem { logger.warning("git: \(problem)", metadata: metadata) }
        if !r.errors.isEmpty {
            logger.error(
                "pass found errors; nothing applied for the resources they concern: \(r.errors.joined(separator: "; "))",
                metadata: metadata
            )
        }
        if !r.drift.isEmpty {
            logger.warning("drift detected: \(r.drift.map(\.description).joined(separator: ", "))", metadata: metadata)
        }
        for (id, why) in r.failed.sorted(by: { $0.key < $1.key }) {
            logger.error("\(id) failed: \(why)", metadata: metadata)
        }
        if !r.applied.isEmpty {
            logger.notice("applied: \(r.applied.map(\.description).joined(separator: ", "))", metadata: metadata)
        }
        if let pending = r.pendingPlanID, !r.waiting.isEmpty {
            logger.notice(
                "waiting for approval in plan \(pending): \(r.waiting.map(\.description).joined(separator: ", "))",
                metadata: metadata
            )
        }
        for (id, why) in r.held.sorted(by: { $0.key < $1.key }) {
            logger.info("\(id) held: \(why)", metadata: metadata)
        }
        if r.applied.isEmpty && r.failed.isEmpty && r.waiting.isEmpty && r.errors.isEmpty {
            logger.debug("in sync", metadata: metadata)
        }
    }
}
