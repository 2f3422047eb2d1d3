import Foundation
import SetpointCore
import SetpointExec
import SetpointPG
import SetpointRemote

/// Where a policy's parts run. Everything on this machine is the local layout (one configuration, no servers). When
/// the repository, a member or the drill runs on another Host, it is pgBackRest's TLS-server layout: the repository
/// host holds the repository options and secrets and reaches each database host's `pgbackrest server`; each database
/// host holds its data directory's options and reaches the repository host's server (archive-push, archive-get); a
/// host that only restores (the drill's) holds a client configuration. Each host gets the certificates of spec.tls.
struct BackupHosts: Sendable {
    enum Role: Sendable, Equatable {
        /// The repository's host: repo1 options, the secrets, pg1…pgN through their servers; runs a server.
        case repository
        /// A member's host: its pg1 options, repo1 through the repository's server; runs a server.
        case database(ClusterTarget.Member)
        /// Restores only (a drill's host): repo1 through the repository's server; no server.
        case client
    }

    struct Place: Sendable {
        var access: HostAccess
        var role: Role
        var runsServer: Bool { role != .client }
    }

    /// The settings with the primary's connection through a forward when its Host is behind a jump host.
    let settings: BackupSettings
    let repository: HostAccess
    let primary: HostAccess
    /// Every host of the TLS-server layout, the repository's first; empty in the local layout.
    let places: [Place]

    static func resolve(_ s: BackupSettings, context: ProviderContext, local: HostAccess) async throws -> BackupHosts {
        func host(_ runsOn: String?) async throws -> HostAccess {
            guard runsOn != nil else { return local }
            return try await context.host(runsOn, for: s.id)
        }
        var settings = s
        let primary = try await host(s.cluster.primaryRunsOn)
        if context.isBehindJump(s.cluster.primaryRunsOn), s.cluster.connection.conninfo == nil,
            let folder = try await primary.socketFolder(
                to: s.cluster.host ?? primary.address ?? "127.0.0.1",
                port: s.cluster.port
            )
        {
            settings.cluster.connection.host = folder
        }
        guard s.isSpread else {
            return BackupHosts(settings: settings, repository: local, primary: primary, places: [])
        }
        if s.spec.repository.runsOn == nil {
            throw SetpointError(
                .applyFailed,
                "the cluster or the drill runs on another Host, so its hosts reach the repository through pgBackRest's TLS "
                    + "server: name the repository's Host in spec.repository.runsOn",
                resource: s.id
            )
        }
        // The repository's Host dials each member: a member on this machine needs an address it can dial.
        if let local = s.cluster.members.first(where: { $0.runsOn == nil && $0.dataDirectory != nil && !$0.hasAddress })
        {
            throw SetpointError(
                .applyFailed,
                "member \(local.name) of PostgresCluster/\(s.cluster.name) has neither runsOn nor host, so the repository's "
                    + "Host (Host/\(s.spec.repository.runsOn ?? "")) cannot dial its pgbackrest server: give it runsOn, or host "
                    + "with an address the repository's Host reaches",
                resource: s.id
            )
        }
        let repository = try await host(s.spec.repository.runsOn)
        var places = [Place(access: repository, role: .repository)]
        for member in s.cluster.members where member.dataDirectory != nil {
            guard !places.contains(where: { $0.access.host == member.runsOn }) else { continue }
            places.append(Place(access: try await host(member.runsOn), role: .database(member)))
        }
        if let drill = s.spec.drill, !places.contains(where: { $0.access.host == drill.runsOn }) {
            places.append(Place(access: try await host(drill.runsOn), role: .client))
        }
        return BackupHosts(settings: settings, repository: repository, primary: primary, places: places)
    }

    /// Where a restore on `access` runs, and with which configuration: a host of the layout keeps its own role; any
    /// other host gets a client configuration.
    func place(for access: HostAccess) -> Place? {
        guard settings.isSpread else { return nil }
        return places.first { $0.access.host == access.host } ?? Place(access: access, role: .client)
    }

    /// The address other hosts dial for the repository's server.
    var repositoryAddress: String { repository.address ?? "127.0.0.1" }
}

/// One host's files of the TLS-server layout: the configuration, the secrets include file (the repository's host
/// only) and the certificates, each compared with what Setpoint writes.
struct PlacedFiles: Sendable {
    let place: BackupHosts.Place
    let settings: BackupSettings
    let hosts: BackupHosts

    struct File: Sendable {
        var path: String
        var text: String?
        var mode: Int
    }

    func files(socketDirectory: String?) -> [File] {
        let s = settings
        let t = s.tls
        return [
            File(
                path: s.configFile,
                text: PgBackRestConfig.render(s, socketDirectory: socketDirectory, place: place, hosts: hosts),
                mode: 0o640
            ),
            File(
                path: s.secretFile,
                text: place.role == .repository ? PgBackRestConfig.renderSecrets(s) : nil,
                mode: 0o600
            ),
            File(path: "\(s.tlsDirectory)/ca.crt", text: t?.ca, mode: 0o600),
            File(path: "\(s.tlsDirectory)/host.crt", text: t?.certificate, mode: 0o600),
            File(path: "\(s.tlsDirectory)/host.key", text: t?.key, mode: 0o600),
        ]
    }

    /// A digest of everything the server reads at its start: a server started with other files is restarted.
    func digest(socketDirectory: String?) -> String {
        SHA256.hex(
            files(socketDirectory: socketDirectory).map { "\($0.path)\n\($0.text ?? "")" }.joined(separator: "\n")
        )
    }

    var files: any HostFiles { place.access.files.acting(as: settings.osUser) }

    /// What differs on the host (empty: as Setpoint writes it). Secrets are compared, never shown.
    func drift(socketDirectory: String?) async throws -> [String] {
        var out: [String] = []
        for f in files(socketDirectory: socketDirectory) {
            let now = try await files.read(f.path)
            if now != f.text {
                let name = (f.path as NSString).lastPathComponent
                out.append(now == nil ? "no \(name)" : f.text == nil ? "\(name) is stale" : "\(name) differs")
            }
        }
        return out
    }

    /// Writes what differs, creating the folders (the OS user's). Returns what it wrote.
    func write(socketDirectory: String?) async throws -> [String] {
        let s = settings
        let access = place.access
        try await BackupFolders.ensure(access, s.configDirectory, user: access.isLocal ? nil : s.osUser, mode: 0o755)
        try await BackupFolders.ensure(access, s.includeDirectory, user: s.osUser, mode: 0o700)
        try await BackupFolders.ensure(access, s.tlsDirectory, user: s.osUser, mode: 0o700)
        try await BackupFolders.ensure(access, s.logDirectory, user: s.osUser, mode: 0o750)
        if place.role == .repository, (s.spec.repository.type ?? "posix") == "posix" {
            try await BackupFolders.ensure(access, s.spec.repository.path, user: s.osUser, mode: 0o750)
        }
        var wrote: [String] = []
        for f in files(socketDirectory: socketDirectory) {
            let now = try await files.read(f.path)
            guard now != f.text else { continue }
            if let text = f.text {
                try await files.write(text, to: f.path, mode: f.mode, private: f.mode == 0o600)
                if access.isLocal {
                    let path = f.path
                    let mode = mode_t(f.mode)
                    let user = s.osUser
                    try await onOwnThread("setpoint-backup-folders") {
                        try OwnedPaths.chownFile(path, user: user, mode: mode)
                    }
                }
                wrote.append(f.path)
            } else {
                try await files.remove(f.path)
            }
        }
        return wrote
    }
}

/// Folders a policy needs on a host, made as the OS user that owns them.
enum BackupFolders {
    static func ensure(_ access: HostAccess, _ path: String, user: String?, mode: Int) async throws {
        if access.isLocal {
            try await onOwnThread("setpoint-backup-folders") {
                try OwnedPaths.directory(path, user: user, mode: mode_t(mode))
            }
            return
        }
        if try await access.files.acting(as: user).stat(path)?.isDirectory == true { return }
        let out = try await access.runner.run(
            Command("/bin/mkdir", ["-p", "-m", String(mode, radix: 8), "--", path], user: user, timeout: .seconds(30)),
            allowFailure: true
        )
        guard out.status == 0 else {
            throw OwnedPaths.Failure(
                description: "\(access.name): cannot create \(path) as \(user ?? "the SSH user"): "
                    + "\(out.stderr.trimmingCharacters(in: .whitespacesAndNewlines)); create it there owned by "
                    + "\(user ?? "the SSH user") (docs/backups.md, backups across hosts)"
            )
        }
    }
}
