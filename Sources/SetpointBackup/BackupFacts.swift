import Foundation
import SetpointCore
import SetpointExec
import SetpointPG

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

    var config: [String: [String: String]]? { configText.map(PgBackRestConfig.parse) }

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

    static func gather(_ settings: BackupSettings, runner: any CommandRunner) async -> BackupFacts {
        var facts = BackupFacts()
        do {
            let db = try await connect(settings)
            defer { db.close() }
            facts.probe = try await ArchiveProbe.read(db)
        } catch {
            facts.probeError = "\(settings.cluster.primary) of PostgresCluster/\(settings.cluster.name): \(error)"
        }
        facts.configText = try? String(contentsOfFile: settings.configFile, encoding: .utf8)
        if facts.configText != nil {
            do {
                facts.info = try await PgBackRest(runner: runner, settings: settings).info()
            } catch {
                facts.infoError = "\(error)"
            }
        }
        return facts
    }
}
