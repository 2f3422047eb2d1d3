import SetpointCore
import SetpointPG

extension PGConnection {
    /// A connection to a member or PgBouncer, counted in the provider request metrics.
    static func counted(_ config: PGConfig) async throws -> PGConnection {
        do {
            let connection = try await connect(config)
            ProviderRequests.shared.record("postgresql", ok: true)
            return connection
        } catch {
            ProviderRequests.shared.record("postgresql", ok: false)
            throw error
        }
    }
}
