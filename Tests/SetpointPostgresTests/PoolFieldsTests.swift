import SetpointCore
import Testing

@testable import SetpointPostgres

/// ConnectionPool's field table: one row per schema field, and the console settings read and SET through it.
@Suite(.timeLimit(.minutes(1))) struct PoolFieldsTests {
    @Test func everySchemaFieldHasExactlyOneRow() {
        let coverage = PoolFields.table.coverage(of: ConnectionPoolKind.spec)
        #expect(coverage.missing.isEmpty && coverage.unknown.isEmpty && coverage.duplicated.isEmpty, "\(coverage)")
    }

    @Test func consoleSettingsAreReadAndSetAsPgBouncerHoldsThem() {
        let config = ["max_client_conn": "100", "server_idle_timeout": "600", "listen_port": "6432"]
        #expect(
            PoolFields.observedSettings(config) == ["maxClientConn": .int(100), "serverIdleTimeout": .int(600_000)]
        )
        #expect(PoolFields.settingsToSet(.map([:]), config: config).isEmpty, "PgBouncer's defaults are what is wanted")
        let wanted = Value.map(["maxClientConn": .int(500), "serverIdleTimeout": .int(30_000)])
        let sets = PoolFields.settingsToSet(wanted, config: config)
        #expect(sets.map(\.key) == ["max_client_conn", "server_idle_timeout"] && sets.map(\.value) == ["500", "30"])
        #expect(
            PoolFields.settingsToSet(wanted, config: ["max_client_conn": "500", "server_idle_timeout": "30"]).isEmpty
        )
    }

    @Test func theTableIsThePoolsPolicy() {
        let policy = PoolFields.policy
        #expect(policy.rule(for: ["pgbouncer", "host"])?.comparison == .ignore)
        #expect(policy.rule(for: ["databases", "app", "target"])?.reason?.contains("RELOAD") == true)
        #expect(policy.rule(for: ["maxClientConn"])?.reason?.contains("admin console") == true)
    }
}
