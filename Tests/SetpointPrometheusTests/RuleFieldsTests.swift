import SetpointCore
import Testing

@testable import SetpointPrometheus

/// `AlertRuleGroup`'s field tables: one row per schema field, and a rule file written from the rows reads back as the
/// manifest.
@Suite(.timeLimit(.minutes(1))) struct RuleFieldsTests {
    @Test func everySchemaFieldHasExactlyOneRow() {
        for (table, schema) in [
            (RuleFields.group.coverage(of: AlertRuleGroupKind.spec), "group"),
            (RuleFields.rule.coverage(of: AlertRuleGroupKind.rule), "rule"),
        ] {
            #expect(table.missing.isEmpty && table.unknown.isEmpty && table.duplicated.isEmpty, "\(schema): \(table)")
        }
    }

    @Test func aRuleFileReadsBackAsTheManifest() throws {
        let spec: Value = .map([
            "prometheus": .string("main"),
            "interval": .int(30_000),
            "limit": .int(5),
            "rules": .list([
                .map([
                    "alert": .string("DiskFull"), "expr": .string("node_filesystem_avail_bytes < 1e9"),
                    "for": .int(300_000), "keepFiringFor": .int(60_000),
                    "labels": .map(["severity": .string("page")]),
                    "annotations": .map(["summary": .string("disk \"full\"")]),
                ]),
                .map(["record": .string("job:up:sum"), "expr": .string("sum by (job) (up)")]),
            ]),
        ])
        let text = RuleFiles.render(group: "disks", spec: spec)
        #expect(text.contains("keep_firing_for: 1m"), "\(text)")
        let read = try #require(RuleFiles.read(text, file: "setpoint-disks.yml"))
        var expected = spec
        if case .map(var m) = expected {
            m["prometheus"] = nil  // where the file lies, not in it
            expected = .map(m)
        }
        #expect(Value.map(read) == expected)
    }

    @Test func theServersViewAgreesWithTheFileExceptForReprintedQueries() {
        let loaded = MonitoringAPI.LoadedGroup(
            name: "disks",
            file: "/rules/setpoint-disks.yml",
            intervalSeconds: 30,
            limit: nil,
            rules: [
                MonitoringAPI.LoadedRule(
                    type: "alerting",
                    name: "DiskFull",
                    query: "node_filesystem_avail_bytes < 1e+09",
                    forSeconds: 300,
                    keepFiringForSeconds: 0,
                    labels: ["severity": "page"],
                    annotations: [:]
                )
            ]
        )
        let file: [String: Value] = [
            "rules": .list([
                .map([
                    "alert": .string("DiskFull"), "expr": .string("node_filesystem_avail_bytes < 1e9"),
                    "for": .int(300_000), "labels": .map(["severity": .string("page")]),
                ])
            ])
        ]
        #expect(RuleGroups.agrees(file, loaded), "the query differs only in Prometheus' printing")
        var longer = file
        longer["rules"] = .list([
            .map(["alert": .string("DiskFull"), "expr": .string("x"), "for": .int(600_000)])
        ])
        #expect(!RuleGroups.agrees(longer, loaded), "a different 'for' is another rule")
        #expect(RuleGroups.shape(loaded)["interval"] == .int(30_000))
    }
}
