import Foundation
import SetpointBackup
public import SetpointCore
import SetpointEngine
import SetpointHosts
import SetpointPostgres
import SetpointPrometheus
import SetpointProxmox

/// What the commands run with besides their arguments: the providers of this build and where secrets come from.
///
/// The shipped `setpoint` uses `.shipped`; tests run the same commands in-process with fake providers.
public struct CLIRuntime: Sendable {
    public var providers: [any Provider]
    public var secrets: any SecretResolver
    /// Lines typed at an interactive prompt (tests); nil reads standard input.
    public var input: (@Sendable () -> String?)?
    /// The one clock of the commands, the engine and the providers they run.
    public var clock: any SetpointClock
    /// The sessions to the Hosts a command reaches (one SSH master per host); `SetpointCLI.run` makes them when none
    /// are given and closes them when the command ends.
    public var hosts: (any HostSessions)?

    public init(
        providers: [any Provider],
        secrets: any SecretResolver,
        input: (@Sendable () -> String?)? = nil,
        clock: any SetpointClock = SystemClock(),
        hosts: (any HostSessions)? = nil
    ) {
        self.providers = providers
        self.secrets = secrets
        self.input = input
        self.clock = clock
        self.hosts = hosts
    }

    @TaskLocal static var current: CLIRuntime?
}

extension CLIRuntime {
    /// The shipped build: its providers (Proxmox VE, PostgreSQL + PgBouncer, Prometheus + Alertmanager, pgBackRest
    /// backups) and secrets from the environment and files.
    public static var shipped: CLIRuntime {
        CLIRuntime(
            providers: [ProxmoxProvider(), PostgresProvider(), PrometheusProvider(), BackupProvider(), HostProvider()],
            secrets: EnvironmentSecretResolver()
        )
    }
}

extension CLIRuntime {
    /// The running command's clock (the machine's when no runtime is set).
    static var clock: any SetpointClock { current?.clock ?? SystemClock() }
}
