import Foundation
import SetpointTesting
import Testing

/// `setpoint state migrate` end to end: a state an apply wrote moves to PostgreSQL (under CI; else to another SQLite
/// file) and back, and plans on each copy find nothing to do; a running controller's lease makes it refuse.
@Suite(.timeLimit(.minutes(3))) struct StateMigrateCommandTests {
    @Test func anAppliedStateMovesToPostgresAndBackAndARunningControllerMakesItRefuse() async throws {
        let env = try await SimEnv()
        defer { Task { await env.stop() } }
        try env.write([ControllerTests.vm(cores: 2)])
        let applied = await env.run(["apply", env.manifests, "--auto-approve"])
        #expect(applied.code == 0, "\(applied.err)")

        let usePostgres = ProcessInfo.processInfo.environment["SETPOINT_TEST_PG_PORT"] != nil || ExternalTool.isCI
        let there = usePostgres ? try await ControllerHATests.database() : env.dir + "/there.db"
        let moved = await env.run(["state", "migrate", "--state", env.state, "--to", there], withState: false)
        #expect(moved.code == 0, "\(moved.err)")
        #expect(moved.out.contains("and verified the copy:"), "\(moved.out)")
        #expect(moved.out.contains("  1 owned resources"), "\(moved.out)")
        #expect(
            !moved.out.contains(
                ":" + (ProcessInfo.processInfo.environment["SETPOINT_TEST_PG_PASSWORD"] ?? "\u{0}") + "@"
            )
        )
        let planThere = await env.run(["plan", env.manifests, "--state", there], withState: false)
        #expect(planThere.out.contains("No changes."), "\(planThere.out)\(planThere.err)")
        let verify = await env.run(["audit", "verify", "--state", there], withState: false)
        #expect(verify.code == 0, "\(verify.out)\(verify.err)")

        // Back to a new SQLite file (a downgrade); into a store that holds a state, never.
        let back = env.dir + "/back.db"
        let returned = await env.run(["state", "migrate", "--state", there, "--to", back], withState: false)
        #expect(returned.code == 0, "\(returned.err)")
        let again = await env.run(["state", "migrate", "--state", there, "--to", back], withState: false)
        #expect(again.code == 1 && again.err.contains("already holds a Setpoint state"), "\(again.err)")

        // A controller runs on the copy: moving it is refused while it holds the lease.
        let (process, output) = try ControllerAPITests.launch([
            env.manifests, "--interval", "300ms", "--listen", "none", "--state", back,
        ])
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        try await output.wait(for: "pass")
        let refused = await env.run(
            ["state", "migrate", "--state", back, "--to", env.dir + "/third.db"],
            withState: false
        )
        #expect(refused.code == 1, "\(refused.out)")
        #expect(refused.err.contains("is in use:") && refused.err.contains("stop every controller"), "\(refused.err)")
        kill(process.processIdentifier, SIGTERM)
        #expect(await process.exitStatus(within: .seconds(30)) == 0, "\(output.value.suffix(2000))")
    }
}
