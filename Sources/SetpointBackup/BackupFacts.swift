import Foundation
import SetpointCore
import SetpointExec
import SetpointPG
import SetpointRemote

/// Everything observed about a policy in one pass: the primary's archive settings and archiver, the configuration
/// Setpoint wrote, and what the repository holds. Gathering never changes anything.
struct BackupFacts: Sendable {
    var probe: ArchiveProbe?
    /// Why the primary could not be read (PostgreSQL's message).
    var probeError: String?
    /// The stanza's configuration file as it is on disk (nil: not written yet).
    var configText: String?
    var info: StanzaInfo?
    var infoError: String?
    /// Why the configuration could not be read (the host's words): not the same as "not written yet".
    var configError: String?
    /// The repository host's configuration as Setpoint writes it now.
    var expectedConfig: String?
    /// In the TLS-server layout, what differs on each host (`Host/pg-2 (…): pgbackrest server is not running`).
    var hostDrift: [String] = []

    var config: [String: [String: String]]? { configText.map(PgBackRestConfig.parse) }

    static func connect(_ hosts: BackupHosts) async throws -> PGConnection { try await connect(hosts.settings) }

    static func connect(_ settings: BackupSettings) async throws -> PGConnection {
        do {
            let db = try await PGConnection.connect(settings.cluster.connection)
            ProviderRequests.shared.record("postgresql", ok: true)
            return db
        } catch {
            ProviderRequests.shared.record("postgresql", ok: false)
            throw error
        }
    }

    static func gather(_ hosts: BackupHosts, clock: any SetpointClock) async -> BackupFacts {
        let settings = hosts.settings
        var facts = BackupFacts()
        do {
            let db = try await connect(settings)
            defer { db.close() }
            facts.probe = try await ArchiveProbe.read(db)
        } catch {
            facts.probeError = "\(settings.cluster.primary) of PostgresCluster/\(settings.cluster.name): \(error)"
        }
        let socket = facts.probe?.socketDirectory
        let repository = hosts.place(for: hosts.repository)
        facts.expectedConfig = PgBackRestConfig.render(
            settings,
            socketDirectory: socket,
            place: repository,
            hosts: hosts
        )
        do {
            facts.configText = try await hosts.repository.files.acting(as: settings.osUser).read(settings.configFile)
        } catch {
            facts.configError = "\(error)"
        }
        if facts.configText != nil {
            do {
                facts.info = try await PgBackRest(runner: hosts.repository.runner, settings: settings).info()
            } catch {
                facts.infoError = "\(error)"
            }
        }
        for place in hosts.places {
            let placed = PlacedFiles(place: place, settings: settings, hosts: hosts)
            do {
                var wrong = try await placed.drift(socketDirectory: socket)
                if place.runsServer,
                    let server = try await BackupServer(place: place, settings: settings, clock: clock)
                        .drift(digest: placed.digest(socketDirectory: socket))
                {
                    wrong.append(server)
                }
                if !wrong.isEmpty { facts.hostDrift.append("\(place.access.name): " + wrong.joined(separator: ", ")) }
            } catch {
                facts.hostDrift.append("\(place.access.name): \(error)")
            }
        }
        return facts
    }
}
