import Foundation
import SetpointCLI
import SetpointCore
import SetpointEngine
import SetpointPrometheus
import SetpointTesting
import Testing

/// The repository's own rule groups and routing (manifests/monitoring) as Setpoint renders them pass promtool and
/// amtool, checked the way `setpoint validate` checks any manifest (a missing tool is an error here).
@Suite(.timeLimit(.minutes(5)), .enabled(if: MonitoringEnv.enabled))
struct ShippedManifestsTests {
    @Test func theShippedRuleGroupsAndRoutingPassPromtoolAndAmtool() async throws {
        var environment = ProcessInfo.processInfo.environment
        environment["CI"] = "true"
        let console = Console.capturing()
        let runtime = CLIRuntime(
            providers: [PrometheusProvider(environment: environment)],
            secrets: EnvironmentSecretResolver(environment: [:])
        )
        let code = await SetpointCLI.run(
            ["validate", RepoPaths.path("manifests"), "--output", "json"],
            console: console,
            runtime: runtime
        )
        let out = console.capturedOut + console.capturedErr
        #expect(code == 0, "\(out)")
        for tool in ["SP1021", "SP1022"] { #expect(!out.contains(tool), "\(tool) in:\n\(out)") }
        let groups = try FileManager.default.contentsOfDirectory(atPath: RepoPaths.path("manifests/monitoring/rules"))
        #expect(groups.count >= 5, "the rule groups for the seed's objectives are there: \(groups)")
    }
}
