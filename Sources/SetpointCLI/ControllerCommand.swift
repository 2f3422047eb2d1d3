import ArgumentParser
import Foundation
import Logging
import SetpointController
import SetpointCore
import SetpointEngine
import SetpointState
import Synchronization

/// `setpoint controller PATH…`: keep the infrastructure equal to the manifests, continuously.
struct ControllerCommand: ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "controller",
        abstract: "Reconcile continuously: correct drift, apply safe changes, park risky ones in a pending plan.",
        discussion: """
            Every pass (on --interval with ±10 % jitter, and at once when a manifest file changes) loads the manifests — a \
            manifest error blocks the pass, nothing is applied from a partial desired state — takes the state's apply \
            lease (a CLI apply or another controller holding it skips the pass), plans, and then:
              - creates and updates apply by themselves (an update of impact restart only stages the change);
              - the restart verb, replace and data-loss changes, deletes, and resources annotated setpoint/approval: required \
            wait in a pending plan, reused while the same actions wait on the same observations (setpoint/approval: auto \
            lets a resource's risky changes apply by themselves);
              - setpoint/paused: true holds a resource; --drift-policy report (or setpoint/drift-policy: report on a \
            resource) reports drift without correcting it;
              - a resource whose action failed is retried with exponential backoff (5 s doubling to 5 min, jittered), \
            without holding back unrelated resources.
            With --git-remote, each pass first runs 'git fetch REMOTE BRANCH' in the manifests' work tree and fast-forwards \
            it (never a merge or a reset: a diverged branch or local edits in the way are reported, and the pass reconciles \
            the commit checked out). Every plan and audit record names the commit; a pending plan's author is the \
            commit's author, whom --four-eyes keeps from approving it.
            The leader also runs the BackupPolicies' schedules (full, diff, incr, logical dumps, drills): each runs when its cron \
            schedule fires after the last success, so a run missed while no controller led runs once when one leads again, and \
            a policy without a full backup gets one at once. A run holds its cluster's lock domain (pg:NAME): actions on the \
            cluster wait for it. A failed backup is retried after 5 min, doubling to 1 h. 'setpoint backup run --controller URL' \
            asks the leader for a run; /metrics exports setpoint_backup_* for the alert rules of 'setpoint backup alerts'.
            Every plan, action and pending plan is in the audit log. SIGTERM or SIGINT lets started actions finish, starts no \
            new one, waits for backup runs in progress, and exits 0; SIGHUP reads the --tokens file again.

            Examples:
              setpoint controller manifests/ --interval 30s
              setpoint controller manifests/ --once              # one pass, then exit (1 when it found errors or failures)
              setpoint controller /srv/infra/manifests --git-remote origin --git-branch main --four-eyes --tokens /etc/setpoint/tokens

            Exit codes: 0 stopped cleanly (or --once: a clean pass); 1 a pass with errors or failures (--once), or bad options.
            """
    )

    @Argument(help: "Manifest files or folders.")
    var paths: [String]

    @Option(name: .long, help: ArgumentHelp("Time between passes (5s, 30s, 2m …).", valueName: "DURATION"))
    var interval: String = "30s"

    @Option(name: .customLong("drift-policy"), help: "correct: drift is changed back; report: only reported.")
    var driftPolicy: String = "correct"

    @Flag(name: .long, help: "Run one pass and exit.")
    var once = false

    @Option(name: .long, help: "Actions applied at once.")
    var parallelism: Int = 8

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Where the HTTP API listens (HOST:PORT; port 0 picks one; 'none' for no API).",
            valueName: "HOST:PORT"
        )
    )
    var listen: String = "127.0.0.1:9797"

    @Option(
        name: .customLong("tls-certificate"),
        help: ArgumentHelp(
            "Serve the API over TLS with this PEM certificate (the chain: the server's first); read again on SIGHUP.",
            valueName: "FILE"
        )
    )
    var tlsCertificate: String?

    @Option(
        name: .customLong("tls-key"),
        help: ArgumentHelp("The PEM private key of --tls-certificate; read again on SIGHUP.", valueName: "FILE")
    )
    var tlsKey: String?

    @Option(
        name: .customLong("session-ttl"),
        help: ArgumentHelp(
            "How long a sign-in to the approvals page (/ui) lasts; never past the token's own expiry.",
            valueName: "DURATION"
        )
    )
    var sessionTTL: String = "8h"

    @Flag(
        name: .customLong("insecure-http"),
        help: "Serve plain HTTP on an address other than loopback (tokens and cookies then cross the network in clear)."
    )
    var insecureHTTP = false

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The API's tokens file (ROLE EMAIL sha256:HEX lines; see 'setpoint token create').",
            valueName: "FILE"
        )
    )
    var tokens: String?

    @Flag(name: .customLong("four-eyes"), help: "An approver may not approve a plan they authored.")
    var fourEyes = false

    @Option(
        name: .customLong("log-format"),
        help: "text, or json: one JSON object a line (SETPOINT_LOG_LEVEL sets the level)."
    )
    var logFormat: String = "text"

    @Option(
        name: .customLong("git-remote"),
        help: ArgumentHelp(
            "Fetch this remote and fast-forward the manifests' work tree before each pass.",
            valueName: "REMOTE"
        )
    )
    var gitRemote: String?

    @Option(
        name: .customLong("git-branch"),
        help: ArgumentHelp(
            "The branch to follow with --git-remote (default: the one checked out).",
            valueName: "BRANCH"
        )
    )
    var gitBranch: String?

    @Option(
        name: .customLong("webhook-secret"),
        help: ArgumentHelp(
            "Accept push webhooks (POST /api/v1/webhooks/github, /gitlab) with this secret: env:NAME or file:/path. A verified push starts a pass at once.",
            valueName: "REF"
        )
    )
    var webhookSecret: String?

    @Option(
        name: .customLong("webhook-branch"),
        help: ArgumentHelp(
            "Only pushes to this branch start a pass (default: --git-branch; without it, any branch).",
            valueName: "BRANCH"
        )
    )
    var webhookBranch: String?

    @Option(
        name: .customLong("lease-ttl"),
        help: ArgumentHelp(
            "How long leadership lasts unrenewed (renewed every third of it); another controller leads within it after this one dies.",
            valueName: "DURATION"
        )
    )
    var leaseTTL: String = "10s"

    @Option(
        name: .customLong("header-timeout"),
        help: ArgumentHelp(
            "An API connection must send its request head within this (from connecting, or from the first byte of a later request).",
            valueName: "DURATION"
        )
    )
    var headerTimeout: String = "10s"

    @Option(
        name: .customLong("idle-timeout"),
        help: ArgumentHelp("An API connection may wait this long between requests.", valueName: "DURATION")
    )
    var idleTimeout: String = "60s"

    @Option(
        name: .customLong("max-connections"),
        help: ArgumentHelp(
            "API connections open at most (default 512, and never more than half the open-file limit); beyond it the longest-waiting idle or slow connection is closed.",
            valueName: "N"
        )
    )
    var maxConnections: Int?

    @OptionGroup var stateOptions: StateOptions

    @Option(name: .customLong("as"), help: ArgumentHelp("Identity recorded in the audit log.", valueName: "IDENTITY"))
    var identity: String?

    func validate() throws {
        guard !paths.isEmpty else {
            throw ValidationError("give the manifest files or folders, e.g. 'setpoint controller manifests/'")
        }
        guard let d = DurationValue.parse(interval), d.milliseconds >= 100 else {
            throw ValidationError("--interval '\(interval)' is not a duration of at least 100ms")
        }
        guard ControllerPolicy.DriftPolicy(rawValue: driftPolicy) != nil else {
            throw ValidationError("--drift-policy is correct or report")
        }
        guard parallelism > 0 else { throw ValidationError("--parallelism must be positive") }
        guard ["text", "json"].contains(logFormat) else { throw ValidationError("--log-format is text or json") }
        if listen != "none", Int(listen.split(separator: ":").last ?? "") == nil {
            throw ValidationError("--listen is HOST:PORT (or 'none')")
        }
        guard let ttl = DurationValue.parse(leaseTTL), ttl.milliseconds >= 1000 else {
            throw ValidationError("--lease-ttl '\(leaseTTL)' is not a duration of at least 1s")
        }
        if gitBranch != nil, gitRemote == nil { throw ValidationError("--git-branch needs --git-remote") }
        for (flag, value) in [("--header-timeout", headerTimeout), ("--idle-timeout", idleTimeout)] {
            guard let d = DurationValue.parse(value), d.milliseconds >= 100 else {
                throw ValidationError("\(flag) '\(value)' is not a duration of at least 100ms")
            }
        }
        if let maxConnections, maxConnections < 1 { throw ValidationError("--max-connections must be at least 1") }
        guard let ttl = DurationValue.parse(sessionTTL), ttl.milliseconds >= 1000 else {
            throw ValidationError("--session-ttl '\(sessionTTL)' is not a duration of at least 1s")
        }
        if (tlsCertificate == nil) != (tlsKey == nil) {
            throw ValidationError("--tls-certificate and --tls-key go together: give both, or neither for plain HTTP")
        }
        if listen != "none", tlsCertificate == nil, !insecureHTTP, !Self.isLoopback(Self.split(listen).0) {
            throw ValidationError(
                "--listen \(listen) is not a loopback address: serve TLS there (--tls-certificate FILE --tls-key FILE), "
                    + "or say --insecure-http to send tokens in clear"
            )
        }
    }

    /// 127.0.0.0/8, ::1 and localhost: the only addresses plain HTTP is served on unless asked for.
    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    func execute(_ console: Console) async throws -> Int32 {
        CLILog.format.withLock { $0 = logFormat }
        let runtime = CLIRuntime.current ?? .shipped
        let store: any StateStore
        do { store = try await stateOptions.open(console) } catch {
            console.err("error: \(error)\n")
            return 1
        }
        let logger = CLILog.logger("controller")
        let git = gitRemote.map { GitSync(remote: $0, branch: gitBranch) }
        let reconciler = Reconciler(
            Reconciler.Configuration(
                paths: paths,
                providers: runtime.providers,
                secrets: runtime.secrets,
                policy: ControllerPolicy(driftPolicy: ControllerPolicy.DriftPolicy(rawValue: driftPolicy)!),
                identity: identity ?? "controller:" + AuditTrail.defaultActor,
                parallelism: parallelism,
                leaseTTL: DurationValue.parse(leaseTTL)!.duration,
                git: git,
                clock: runtime.clock,
                hosts: runtime.hosts
            ),
            store: store,
            log: SwiftLogProviderLog(logger: CLILog.logger("provider"))
        )
        if once {
            let report = await reconciler.pass()
            await reconciler.resign()
            console.out(Self.summary(report, at: runtime.clock.now))
            return report.isSuccess && report.leaseHeldBy == nil ? 0 : 1
        }
        var api: Controller.API?
        if listen != "none" {
            let tokenSet: Tokens
            do { tokenSet = try tokens.map(Tokens.load) ?? Tokens(lines: "") } catch {
                console.err("error: \(error)\n")
                return 1
            }
            let (host, port) = Self.split(listen)
            var tls: TLSCertificateFiles?
            if let tlsCertificate, let tlsKey {
                do { tls = try TLSCertificateFiles(certificate: tlsCertificate, key: tlsKey) } catch {
                    console.err("error: \(error)\n")
                    return 1
                }
                console.out("TLS certificate \(tlsCertificate): \(tls!.summary)\n")
                if tls!.notAfter <= runtime.clock.now {
                    console.err(
                        "warning: the TLS certificate \(tlsCertificate) has expired: clients will refuse it; renew it and send SIGHUP\n"
                    )
                }
            }
            let scheme = tls == nil ? "http" : "https"
            var settings = Controller.API(
                host: host,
                port: port,
                tokens: TokenStore(tokenSet),
                tokensFile: tokens,
                fourEyes: fourEyes,
                limits: connectionLimits(console),
                anchor: try stateOptions.anchor(console),
                webhooks: try webhookSecret.map { reference in
                    let secret = try (CLIRuntime.current ?? .shipped).secrets.resolve(
                        try SecretReference(option: "--webhook-secret", reference)
                    )
                    guard !secret.isEmpty else { throw ValidationError("--webhook-secret \(reference) is empty") }
                    return Webhooks(secret: secret, branch: webhookBranch ?? gitBranch)
                },
                tls: tls,
                onListening: { bound in
                    console.out(
                        "API on \(scheme)://\(host):\(bound)"
                            + (tokenSet.isEmpty ? " (no tokens file: /api/v1 answers 401, webhooks aside)" : "") + "\n"
                    )
                    console.out("approvals page on \(scheme)://\(host):\(bound)/ui\n")
                },
                onTokensReloaded: { path, error in
                    if let error {
                        console.err("error: tokens file \(path) not read again, the old tokens stay: \(error)\n")
                    } else {
                        console.out("tokens file \(path) read again\n")
                    }
                },
                onTLSReloaded: { files, error in
                    if let error {
                        console.err("error: TLS pair not read again, the one in use stays: \(error)\n")
                    } else {
                        console.out("TLS certificate \(files.certificatePath) read again: \(files.summary)\n")
                    }
                }
            )
            settings.sessionTTL = DurationValue.parse(sessionTTL)!.duration
            api = settings
        }
        try await Controller(
            reconciler: reconciler,
            store: store,
            interval: DurationValue.parse(interval)!.duration,
            logger: logger,
            scheduleLog: SwiftLogProviderLog(logger: CLILog.logger("schedule")),
            api: api
        ) { report in console.out(Self.summary(report, at: runtime.clock.now)) }.run()
        console.out("controller stopped\n")
        return 0
    }

    /// The API's connection limits: the timeouts given, and a connection limit that fits the open-file limit.
    func connectionLimits(_ console: Console) -> ConnectionLimits {
        let budget = ConnectionLimits.openFileBudget()
        var wanted = maxConnections ?? 512
        if wanted > budget.connections {
            if maxConnections != nil {
                console.err(
                    "warning: --max-connections \(wanted) does not fit the open-file limit of \(budget.files): at most \(budget.connections) "
                        + "API connections (raise LimitNOFILE in the unit, or ulimit -n)\n"
                )
            }
            wanted = budget.connections
        }
        return ConnectionLimits(
            headerTimeout: DurationValue.parse(headerTimeout)!.duration,
            idleTimeout: DurationValue.parse(idleTimeout)!.duration,
            maxConnections: wanted
        )
    }

    static func split(_ listen: String) -> (String, Int) {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]) else {
            return (listen, 9797)
        }
        return (String(listen[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]")), port)
    }

    /// One line per pass, for people watching the terminal (the logs carry the details).
    static func summary(_ r: PassReport, at now: Date) -> String {
        let time = Timestamp.seconds(now)
        if let held = r.leaseHeldBy { return "\(time) following (not leading): \(held)\n" }
        var parts: [String] = []
        if let moved = r.gitMoved { parts.append("git: " + moved) }
        if let problem = r.gitProblem { parts.append("git: " + problem) }
        if !r.errors.isEmpty {
            parts.append(
                "\(r.errors.count) error\(r.errors.count == 1 ? "" : "s"): " + r.errors.joined(separator: "; ")
            )
        }
        if !r.applied.isEmpty { parts.append("applied " + r.applied.map(\.description).joined(separator: ", ")) }
        if !r.failed.isEmpty {
            parts.append("failed " + r.failed.keys.sorted().map { "\($0) (\(r.failed[$0]!))" }.joined(separator: ", "))
        }
        if let p = r.pendingPlanID, !r.waiting.isEmpty {
            parts.append("waiting for approval in plan \(p): " + r.waiting.map(\.description).joined(separator: ", "))
        }
        if !r.drift.isEmpty { parts.append("drift: " + r.drift.map(\.description).joined(separator: ", ")) }
        if !r.held.isEmpty {
            parts.append("held: " + r.held.keys.sorted().map { "\($0) (\(r.held[$0]!))" }.joined(separator: ", "))
        }
        return "\(time) pass\(r.planID.map { " (plan \($0))" } ?? ""): "
            + (parts.isEmpty ? "in sync" : parts.joined(separator: "; ")) + "\n"
    }
}
