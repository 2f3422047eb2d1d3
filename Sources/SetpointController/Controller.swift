public import Logging
public import ServiceLifecycle
public import SetpointCore
public import SetpointState
import UnixSignals

/// A whole controller, as `setpoint controller` runs it: the reconciler's passes, the policies' schedules beside them,
/// and — with an API — the HTTP API, as one service group that SIGTERM or SIGINT stops gracefully. SIGHUP reads the
/// tokens file and the TLS certificate and key again.
public struct Controller: Sendable {
    /// The API's side: where it listens, its tokens, and its limits.
    public struct API: Sendable {
        public var host: String
        public var port: Int
        public var tokens: TokenStore
        /// Read again on SIGHUP.
        public var tokensFile: String?
        public var fourEyes: Bool
        public var limits: ConnectionLimits
        public var anchor: AuditAnchor?
        /// Push webhooks (nil: their routes answer 404).
        public var webhooks: Webhooks?
        /// The certificate and key the API serves TLS with (nil: plain HTTP). Read again on SIGHUP.
        public var tls: TLSCertificateFiles?
        /// How long a sign-in to the approvals page lasts (never past the token's expiry).
        public var sessionTTL: Duration = .seconds(8 * 3600)
        /// Called after each SIGHUP with the error, if the TLS pair was not read (the pair in use stays).
        public var onTLSReloaded: @Sendable (TLSCertificateFiles, (any Error)?) -> Void
        /// Called with the bound port once listening.
        public var onListening: @Sendable (Int) -> Void
        /// Called after each SIGHUP with the tokens file's path and the error, if it was not read.
        public var onTokensReloaded: @Sendable (String, (any Error)?) -> Void

        public init(
            host: String,
            port: Int,
            tokens: TokenStore,
            tokensFile: String?,
            fourEyes: Bool,
            limits: ConnectionLimits,
            anchor: AuditAnchor?,
            webhooks: Webhooks? = nil,
            tls: TLSCertificateFiles? = nil,
            onListening: @escaping @Sendable (Int) -> Void,
            onTokensReloaded: @escaping @Sendable (String, (any Error)?) -> Void,
            onTLSReloaded: @escaping @Sendable (TLSCertificateFiles, (any Error)?) -> Void = { _, _ in }
        ) {
            self.webhooks = webhooks
            self.tls = tls
            self.onTLSReloaded = onTLSReloaded
            self.host = host
            self.port = port
            self.tokens = tokens
            self.tokensFile = tokensFile
            self.fourEyes = fourEyes
            self.limits = limits
            self.anchor = anchor
            self.onListening = onListening
            self.onTokensReloaded = onTokensReloaded
        }
    }

    public let reconciler: Reconciler
    public let store: any StateStore
    public let interval: Duration
    public let logger: Logger
    /// The schedules' log (runs started, why one waits).
    public let scheduleLog: any ProviderLog
    public let api: API?
    /// Called after every pass.
    public let onPass: @Sendable (PassReport) -> Void

    public init(
        reconciler: Reconciler,
        store: any StateStore,
        interval: Duration,
        logger: Logger,
        scheduleLog: any ProviderLog,
        api: API?,
        onPass: @escaping @Sendable (PassReport) -> Void
    ) {
        self.reconciler = reconciler
        self.store = store
        self.interval = interval
        self.logger = logger
        self.scheduleLog = scheduleLog
        self.api = api
        self.onPass = onPass
    }

    /// Runs until SIGTERM or SIGINT: the pass in flight finishes its started actions, runs in progress end, and the
    /// lease is given up.
    public func run() async throws {
        let status = ControllerStatus()
        let reconciler = self.reconciler
        let onPass = self.onPass
        let scheduler = BackupScheduler(reconciler: reconciler, store: store, log: scheduleLog)
        let operators = OperatorJobs(reconciler: reconciler, store: store)
        let service = ControllerService(
            reconciler: reconciler,
            interval: interval,
            logger: logger,
            scheduler: scheduler,
            scheduleTick: min(interval, .seconds(15)),
            conditions: ConditionRecorder(store: store, status: status, reconciler: reconciler),
            operators: operators
        ) { report in
            status.record(report, declared: report.declared, at: reconciler.configuration.clock.now)
            onPass(report)
        }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: service)]
        var reload: Task<Void, Never>?
        if let api {
            if api.tokensFile != nil || api.tls != nil {
                reload = Task.detached {
                    for await _ in await UnixSignalsSequence(trapping: .sighup) {
                        if let path = api.tokensFile {
                            do {
                                try api.tokens.reload(path)
                                api.onTokensReloaded(path, nil)
                            } catch {
                                api.onTokensReloaded(path, error)
                            }
                        }
                        if let tls = api.tls {
                            do {
                                try tls.reload()
                                api.onTLSReloaded(tls, nil)
                            } catch {
                                api.onTLSReloaded(tls, error)
                            }
                        }
                    }
                }
            }
            let server = ControllerAPI(
                store: store,
                status: status,
                reconciler: reconciler,
                tokens: api.tokens,
                fourEyes: api.fourEyes,
                scheduler: scheduler,
                limits: api.limits,
                anchor: api.anchor,
                webhooks: api.webhooks,
                tls: api.tls,
                sessions: UISessions(ttl: api.sessionTTL),
                operators: operators
            )
            services.append(
                .init(
                    service: server.server(
                        host: api.host,
                        port: api.port,
                        logger: logger,
                        onListening: api.onListening
                    )
                )
            )
        }
        defer { reload?.cancel() }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
    }
}
