import Foundation
import Testing

/// AlertRuleGroup on the real Prometheus scripts/test starts: checked by promtool before anything is written, loaded
/// after apply, changed in place, and a foreign broken file named without Setpoint's groups changing.
/// One Prometheus and one Alertmanager serve every test here, and a test breaks Prometheus' reload on purpose: the
/// suites run one test at a time.
@Suite(.timeLimit(.minutes(5)), .serialized, .enabled(if: MonitoringEnv.enabled))
struct MonitoringTests {}

extension MonitoringTests {
    @Suite struct AlertRuleGroupTests {
        @Test func applyLoadsTheGroupsAForChangeUpdatesInPlaceAndReplanIsEmpty() async throws {
            try await MonitoringEnv.with { env in
                try env.write([
                    env.serverYAML,
                    env.groupYAML(
                        "latency",
                        rules: [("HighLatency", "vector(0) > 1", "5m"), ("Errors", "vector(0) > 2", nil)]
                    ),
                    env.groupYAML("backups", rules: [("BackupTooOld", "vector(0) > 3", "10m")]),
                ])
                await env.apply()
                let loaded = try await env.loaded()
                #expect(loaded[env.group("latency")]?.map(\.0) == ["HighLatency", "Errors"], "\(loaded.keys)")
                #expect(loaded[env.group("backups")]?.first?.1 == 600)
                let again = await env.plan()
                #expect(again.code == 0, "\(again.text)")

                try env.write([
                    env.serverYAML,
                    env.groupYAML(
                        "latency",
                        rules: [("HighLatency", "vector(0) > 1", "2m"), ("Errors", "vector(0) > 2", nil)]
                    ),
                    env.groupYAML("backups", rules: [("BackupTooOld", "vector(0) > 3", "10m")]),
                ])
                let plan = await env.plan()
                #expect(
                    plan.code == 2 && plan.text.contains("rules") && !plan.text.contains("+ AlertRuleGroup"),
                    "an update in place:\n\(plan.text)"
                )
                await env.apply()
                #expect(try await env.loaded()[env.group("latency")]?.first?.1 == 120, "the API shows the new for")
                #expect(await env.plan().code == 0)
            }
        }

        @Test func aGroupRemovedFromTheManifestsIsAnOrphanUntilPruneDeletesItsFile() async throws {
            try await MonitoringEnv.with { env in
                try env.write([
                    env.serverYAML, env.groupYAML("keep", rules: [("Keep", "vector(0) > 1", nil)]),
                    env.groupYAML("gone", rules: [("Gone", "vector(0) > 1", nil)]),
                ])
                await env.apply()
                let file = "\(env.rules)/setpoint-\(env.group("gone")).yml"
                #expect(FileManager.default.fileExists(atPath: file))
                try env.write([env.serverYAML, env.groupYAML("keep", rules: [("Keep", "vector(0) > 1", nil)])])
                let plan = await env.plan()
                #expect(
                    plan.code == 0 && plan.text.contains("AlertRuleGroup/\(env.group("gone"))"),
                    "an orphan is listed, not deleted:\n\(plan.text)"
                )
                await env.apply()
                #expect(FileManager.default.fileExists(atPath: file), "nothing deleted without --prune")
                let pruned = await env.run([
                    "apply", env.manifests, "--auto-approve", "--prune", "--approve", "all-risky",
                ])
                #expect(pruned.code == 0, "\(pruned.out)\(pruned.err)")
                #expect(!FileManager.default.fileExists(atPath: file))
                let loaded = try await env.loaded()
                #expect(loaded[env.group("gone")] == nil && loaded[env.group("keep")] != nil, "\(loaded.keys)")
            }
        }

        @Test func doctorSaysWhenPrometheusWouldNeverLoadTheRulesFolder() async throws {
            try await MonitoringEnv.with { env in
                let elsewhere = env.dir + "/not-in-rule-files"
                try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
                try env.write([
                    env.serverYAML.replacingOccurrences(
                        of: "rulesDirectory: \(env.rules)",
                        with: "rulesDirectory: \(elsewhere)"
                    )
                ])
                let r = await env.run(["doctor", env.manifests], withState: false)
                #expect(
                    r.code == 1 && r.out.contains(all: ["FAIL", "rule_files", "would never load"]),
                    "\(r.out)\(r.err)"
                )
                try env.write([env.serverYAML])
                let fine = await env.run(["doctor", env.manifests], withState: false)
                #expect(fine.code == 0, "\(fine.out)\(fine.err)")
            }
        }

        @Test func aGroupMovedToAnotherServerIsReplacedAndNeverRunsTwice() async throws {
            try await MonitoringEnv.with { env in
                let staging = env.dir + "/staging-rules"
                try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
                // A second server whose rules Setpoint only writes (reload: false), so the move can be seen on disk.
                let other = """
                    apiVersion: setpoint/v1
                    kind: PrometheusServer
                    metadata: {name: other}
                    spec:
                      url: \(env.prometheus)
                      rulesDirectory: \(staging)
                      reload: false

                    """
                let group = env.groupYAML("mover", rules: [("Mover", "vector(0) > 1", nil)])
                try env.write([env.serverYAML, other, group])
                await env.apply()
                #expect(try await env.loaded()[env.group("mover")] != nil)
                try env.write([
                    env.serverYAML, other,
                    group.replacingOccurrences(of: "prometheus: prom", with: "prometheus: other"),
                ])
                let plan = await env.plan()
                #expect(
                    plan.text.contains(all: ["-/+", "AlertRuleGroup/\(env.group("mover"))", "requires approval"]),
                    "\(plan.text)"
                )
                let r = await env.run(["apply", env.manifests, "--auto-approve", "--approve", "all-risky"])
                #expect(r.code == 0, "\(r.out)\(r.err)")
                #expect(
                    try await env.loaded()[env.group("mover")] == nil,
                    "removed from the old server and reloaded there"
                )
                #expect(FileManager.default.fileExists(atPath: "\(staging)/setpoint-\(env.group("mover")).yml"))
                #expect(!FileManager.default.fileExists(atPath: "\(env.rules)/setpoint-\(env.group("mover")).yml"))
                let again = await env.plan()
                #expect(again.code == 0, "\(again.text)")
            }
        }

        @Test func aBadExpressionFailsValidateAtTheRulesPositionQuotingPromtoolAndNothingIsWritten() async throws {
            try await MonitoringEnv.with { env in
                try env.write([
                    env.serverYAML,
                    env.groupYAML(
                        "broken",
                        rules: [("Fine", "vector(1)", nil), ("Broken", "sum(rate(x[5m]) by", nil)]
                    ),
                ])
                let r = await env.run(["validate", env.manifests], withState: false)
                let text = r.out + r.err
                #expect(r.code == 1, "\(text)")
                // The second rule's expr is on line 16 of the generated manifest (after the server document and separator).
                #expect(
                    text.contains(all: ["monitoring.yaml:", "SP1022", "promtool check rules", "rule 2", "parse error"]),
                    "\(text)"
                )
                let source = try String(contentsOfFile: env.manifests + "/monitoring.yaml", encoding: .utf8).split(
                    separator: "\n",
                    omittingEmptySubsequences: false
                )
                let exprLine = try #require(source.firstIndex { $0.contains("sum(rate(x[5m]) by") }) + 1
                #expect(
                    text.contains("monitoring.yaml:\(exprLine):"),
                    "points at the rule's expr (line \(exprLine)):\n\(text)"
                )
                _ = await env.run(["apply", env.manifests, "--auto-approve"])
                #expect(
                    !FileManager.default.fileExists(atPath: "\(env.rules)/setpoint-\(env.group("broken")).yml"),
                    "nothing is written"
                )
            }
        }

        @Test func aForeignBrokenFileFailsTheReloadIsNamedAndSetpointsGroupsStayAsTheyWere() async throws {
            try await MonitoringEnv.with { env in
                try env.write([env.serverYAML, env.groupYAML("steady", rules: [("Steady", "vector(0) > 1", "1m")])])
                await env.apply()
                let foreign = "\(env.rules)/team-\(env.tag).yml"
                try "groups:\n  - name: theirs\n    rules:\n      - alert: X\n        expr: 'sum(('\n".write(
                    toFile: foreign,
                    atomically: false,
                    encoding: .utf8
                )
                try env.write([env.serverYAML, env.groupYAML("steady", rules: [("Steady", "vector(0) > 1", "3m")])])
                let out = await env.apply(expect: 1)
                #expect(out.contains(all: ["refused to reload", foreign, "Setpoint does not own"]), "\(out)")
                #expect(
                    try await env.loaded()[env.group("steady")]?.first?.1 == 60,
                    "Prometheus keeps the group as it was"
                )
                let file = try String(
                    contentsOfFile: "\(env.rules)/setpoint-\(env.group("steady")).yml",
                    encoding: .utf8
                )
                #expect(file.contains("for: 1m"), "Setpoint's previous file is back:\n\(file)")
                try FileManager.default.removeItem(atPath: foreign)
                await env.apply()
                #expect(try await env.loaded()[env.group("steady")]?.first?.1 == 180)
            }
        }
    }
}

extension String {
    func contains(all parts: [String]) -> Bool { parts.allSatisfy { contains($0) } }
}
