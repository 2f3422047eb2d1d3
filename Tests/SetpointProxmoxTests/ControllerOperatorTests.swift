import Foundation
import PVESim
import SetpointTesting
import Testing

/// `setpoint import` and `setpoint apply` while a controller runs: with `--controller`, the leading controller adopts
/// the object and makes the pass under its lease, audited under the token's identity, with its approvals; without
/// it, the command is refused and says how to go through the controller.
@Suite(.timeLimit(.minutes(3))) struct ControllerOperatorTests {
    @Test func importAndApplyGoThroughTheLeadingController() async throws {
        let env = try await SimEnv()
        defer { Task { await env.stop() } }
        // A guest that exists before Setpoint: its manifest needs approval for any change, so no pass creates a twin.
        try await env.makeLegacyGuest()
        let legacy = SimEnv.legacyYAML(annotations: "{setpoint/approval: required}")
        try env.write([ControllerTests.vm(cores: 2), legacy])
        _ = try await ControllerAPITests.makeTokens(
            env,
            [("admin", "oncall@example.net"), ("approver", "bob@example.net")]
        )
        let (process, output) = try ControllerAPITests.launch([
            env.manifests, "--interval", "1h", "--listen", "127.0.0.1:0", "--tokens", env.dir + "/tokens",
            "--state", env.state,
        ])
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let url = "http://127.0.0.1:" + (try await output.apiPort())
        try await output.wait(for: "applied VirtualMachine/web-1:create")
        try await output.wait(for: "waiting for approval in plan p-")
        func token(_ who: String) -> [String] { ["--controller", url, "--token-file", env.dir + "/\(who).token"] }

        // Without --controller the lease is the controller's: refused, saying how to go through it.
        let direct = await env.run(["import", "VirtualMachine/legacy", env.manifests, "--id", "321"])
        #expect(direct.code != 0 && direct.err.contains("give --controller URL to ask it"), "\(direct.err)")
        // An approver may not import (it changes what is owned): admins only.
        let approver = await env.run(
            ["import", "VirtualMachine/legacy", "--id", "321"] + token("bob@example.net"),
            withState: false
        )
        #expect(approver.code == 1 && approver.err.contains("HTTP 403"), "\(approver.err)")
        let imported = await env.run(
            ["import", "VirtualMachine/legacy", "--id", "321"] + token("oncall@example.net"),
            withState: false
        )
        #expect(imported.code == 0, "\(imported.out)\(imported.err)")
        #expect(imported.out.contains("imported VirtualMachine/legacy (id 321)"), "\(imported.out)")

        // apply --controller: a pass now, from the controller's manifests and with its approvals. The adopted guest's
        // one difference (its description) waits for approval; nothing is created twice.
        let applied = await env.run(["apply"] + token("bob@example.net"), withState: false)
        #expect(applied.code == 3, "\(applied.out)\(applied.err)")
        #expect(applied.out.hasPrefix("the leading controller made a pass"), "\(applied.out)")
        #expect(applied.out.contains("waiting for approval in plan p-"), "\(applied.out)")
        #expect(applied.out.contains("VirtualMachine/legacy:update"), "\(applied.out)")
        let made = await env.sim.snapshot.createdNames["legacy"]
        #expect(made == 1, "the existing guest was adopted, not made again")

        let audit = await env.run(["audit", "log", "--output", "json"])
        let lines = audit.out.split(separator: "\n")
        #expect(
            lines.contains {
                $0.contains("\"import\"") && $0.contains("oncall@example.net") && $0.contains("controller API")
            },
            "\(audit.out)"
        )
        #expect(lines.contains { $0.contains("\"apply-requested\"") && $0.contains("bob@example.net") }, "\(audit.out)")
        kill(process.processIdentifier, SIGTERM)
        #expect(await process.exitStatus(within: .seconds(30)) == 0, "\(output.value.suffix(2000))")
    }
}
