import Foundation
import SetpointCLI
import SetpointCore
import SetpointManifest
import SetpointTesting
import Testing

/// `setpoint backup alerts` prints a rule group that loads as a valid manifest beside the stack it watches.
@Suite(.timeLimit(.minutes(2))) struct BackupAlertsTests {
    @Test func theAlertsManifestIsValidAndFollowsTheObjectives() async throws {
        let console = Console.capturing()
        let code = await SetpointCLI.run(
            ["backup", "alerts", "main-db", RepoPaths.path("manifests")],
            console: console
        )
        #expect(code == 0, "\(console.capturedErr)")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "setpoint-alerts-\(UUID().uuidString.prefix(8))"
        ).path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.copyItem(atPath: RepoPaths.path("manifests"), toPath: dir)
        try console.capturedOut.write(toFile: dir + "/zz-backup-alerts.yaml", atomically: true, encoding: .utf8)
        let set = ManifestLoader().load(paths: [dir])
        #expect(set.isValid, "\(set.diagnostics.map(\.summary))")
        let group = try #require(set.resource(ResourceID(kind: .alertRuleGroup, name: "main-db-backup-objectives")))
        let spec = try group.decodeSpec(AlertRuleGroupSpec.self)
        let names = spec.rules.compactMap(\.alert)
        #expect(
            names.contains("WALArchivingFailing") && names.contains("BackupTooOld")
                && names.contains("BackupDrillFailed"),
            "\(names)"
        )
        let policy = try #require(set.resource(ResourceID(kind: .backupPolicy, name: "main-db"))).decodeSpec(
            BackupPolicySpec.self
        )
        let rpo = Double(try #require(policy.objectives?.rpo).milliseconds) / 1000
        #expect(spec.rules.first { $0.alert == "BackupRPOBreached" }?.expr.hasSuffix("> \(rpo)") == true)
        let unknown = await SetpointCLI.run(
            ["backup", "alerts", "nope", RepoPaths.path("manifests")],
            console: Console.capturing()
        )
        #expect(unknown == 1)
    }
}
