import Foundation
public import SetpointCore
public import SetpointState

/// The controller API's request and response bodies (version 1), shared by the server's routes and the CLI's client
/// (`plans`, `approve`, `reject`, `backup run --controller`). Encoded with sorted keys; absent optionals are left out.
public enum APIv1 {
    /// A webhook delivery's answer: whether it starts a pass, and why (or why not).
    public struct WebhookReply: Codable, Sendable, Equatable {
        public var accepted: Bool
        public var reason: String
    }

    /// Every error: `{"error": "…"}`, with a status that says what to do.
    public struct ErrorBody: Codable, Sendable, Equatable {
        public var error: String
        public init(error: String) { self.error = error }
    }

    /// A page of a list; `next` is the cursor to pass as `after` for the next page, when there is one.
    public struct Page<Item: Codable & Sendable>: Codable, Sendable {
        public var items: [Item]
        public var next: String?
        public init(items: [Item], next: String? = nil) {
            self.items = items
            self.next = next
        }
    }

    /// `GET /readyz`.
    public struct Readiness: Codable, Sendable {
        public var ready: Bool
        public var passes: Int
        public var leading: Bool
        /// "this controller", the holder another controller's lease names, or "unknown".
        public var leader: String
        public var commit: String?
        public var gitProblem: String?
        public var problems: [String]?
    }

    /// One resource of `GET /api/v1/resources`.
    public struct ResourceItem: Codable, Sendable {
        public var resource: String
        public var status: String
        public var lastError: String?
        public var nextRetry: String?
    }

    /// `GET /api/v1/resources/{kind}/{name}/explain`.
    public struct Explanation: Codable, Sendable {
        public var resource: String
        public var status: String
        public var lastError: String?
        public var applied: [String]
        public var waiting: [String]
        public var held: [String: String]
        public var pendingPlan: String?
        public var failures: Int?
        /// `Ready` and `Synced` as the leading controller recorded them in the state (with their transition times).
        public var conditions: [ResourceCondition]? = nil
        /// When the retry after the last failure may start (nil: none due, or parked).
        public var nextRetry: String? = nil
    }

    /// `POST /api/v1/operations`: an operator command for the leading controller.
    public struct OperationRequest: Codable, Sendable {
        /// `PostgresCluster/main`.
        public var resource: String
        /// `failover`, `reinit`.
        public var command: String
        public var arguments: [String: String]?

        public init(resource: String, command: String, arguments: [String: String]?) {
            self.resource = resource
            self.command = command
            self.arguments = arguments
        }
    }

    /// `POST /api/v1/passes`: what the pass it asked for did.
    public struct PassSummary: Codable, Sendable {
        public var plan: String?
        public var applied: [String]
        public var failed: [String: String]
        public var waiting: [String]
        public var pendingPlan: String?
        public var held: [String: String]
        public var drift: [String]
        public var errors: [String]
        public var commit: String?
        /// Whether this controller led the pass; else who held the lease (it then did nothing).
        public var leading: Bool
        public var leaseHeldBy: String?

        public init(_ r: PassReport) {
            leading = r.leading && r.leaseHeldBy == nil
            leaseHeldBy = r.leaseHeldBy
            plan = r.planID
            applied = r.applied.map(\.description)
            failed = Dictionary(uniqueKeysWithValues: r.failed.map { ($0.key.description, $0.value) })
            waiting = r.waiting.map(\.description)
            pendingPlan = r.waiting.isEmpty ? nil : r.pendingPlanID
            held = Dictionary(uniqueKeysWithValues: r.held.map { ($0.key.description, $0.value) })
            drift = r.drift.map(\.description)
            errors = r.errors
            commit = r.git?.commit
        }
    }

    /// One plan of `GET /api/v1/plans`.
    public struct PlanSummary: Codable, Sendable {
        public var id: String
        public var status: String
        public var createdAt: String
    }

    /// The body of `POST /api/v1/plans/{id}/approve` (optional) and `…/reject` (a reason is required).
    public struct DecisionRequest: Codable, Sendable {
        public var reason: String?
        public init(reason: String? = nil) { self.reason = reason }
    }

    /// A decision made.
    public struct Decision: Codable, Sendable {
        public var id: String
        public var status: String
        public var by: String
    }

    /// One record of `GET /api/v1/audit`.
    public struct AuditItem: Codable, Sendable {
        public var seq: Int64
        public var time: String
        public var actor: String
        public var event: String
        public var hash: String
        public var planID: String?
        public var actionID: String?
        public var resource: String?
        public var result: String?
        public var detail: PlainJSON?
    }

    /// The body of `POST /api/v1/backups/{policy}/runs`.
    public struct RunRequest: Codable, Sendable {
        /// full, diff, incr (the default), logical or drill.
        public var type: String?
        /// A drill's point in time.
        public var targetTime: String?
        public init(type: String? = nil, targetTime: String? = nil) {
            self.type = type
            self.targetTime = targetTime
        }
    }

    /// A run started by the schedules or the API (`202` of a start, `GET /api/v1/backups/jobs/{job}`).
    public struct Job: Codable, Sendable {
        public var job: String
        public var policy: String
        public var type: String
        public var trigger: String
        public var startedAt: String
        /// running, succeeded or failed.
        public var status: String
        public var run: BackupRun?
        public var error: String?
    }

    /// `GET /api/v1/backups`: recorded runs, the runs in progress, and when each schedule next runs (policy → type →
    /// time).
    public struct Backups: Codable, Sendable {
        public var items: [BackupRun]
        public var running: [Job]?
        public var next: [String: [String: String]]?
    }
}

/// A ``Value`` written as plain JSON (an audit record's detail): doubles as numbers, secrets as their reference marker.
public struct PlainJSON: Codable, Sendable, Equatable {
    public var value: Value
    public init(_ value: Value) { self.value = value }

    public init(from decoder: any Decoder) throws { value = try Value(from: decoder) }

    public func encode(to encoder: any Encoder) throws {
        switch value {
        case .double(let d) where d.isFinite:
            var c = encoder.singleValueContainer()
            try c.encode(d)
        case .list(let l):
            var c = encoder.unkeyedContainer()
            for v in l { try c.encode(PlainJSON(v)) }
        case .map(let m):
            var c = encoder.singleValueContainer()
            try c.encode(m.mapValues(PlainJSON.init))
        default:
            try value.encode(to: encoder)
        }
    }
}

extension APIv1.Job {
    init(_ job: BackupScheduler.Job) {
        self.init(
            job: job.id,
            policy: job.policy,
            type: job.kind.rawValue,
            trigger: job.trigger,
            startedAt: Timestamp.seconds(job.startedAt),
            status: job.status.rawValue,
            run: job.run,
            error: job.error
        )
    }
}
