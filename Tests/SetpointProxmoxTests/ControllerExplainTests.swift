import Foundation
import SetpointHTTP
import SetpointTesting
import Testing

/// `setpoint explain`: through a running controller (its last pass, the pending plan, the conditions it recorded) and
/// without one (the state's conditions, and a fresh plan of the manifests); the conditions' transition times hold
/// while their status does.
@Suite(.timeLimit(.minutes(3))) struct ControllerExplainTests {
    @Test func aResourceWaitingForApprovalIsExplainedThroughTheControllerAndAfresh() async throws {
        let env = try await SimEnv()
        defer { Task { await env.stop() } }
        try env.write([ControllerTests.vm(cores: 2)])
        _ = try await ControllerAPITests.makeTokens(env, [("viewer", "vic@example.net")])
        let (process, output) = try ControllerAPITests.launch([
            env.manifests, "--interval", "300ms", "--listen", "127.0.0.1:0", "--tokens", env.dir + "/tokens",
            "--state", env.state,
        ])
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        try await output.wait(for: "API on http://127.0.0.1:")
        let port = try await output.apiPort(scheme: "http")
        let url = "http://127.0.0.1:\(port)"
        try await output.wait(for: "applied VirtualMachine/web-1:create")
        try env.write([ControllerTests.vm(cores: 4, approval: true)])
        let plan = try await output.pendingPlan()
        let client = ["--controller", url, "--token-file", env.dir + "/vic@example.net.token"]

        // Through the controller. The conditions are written after the pass that found the plan waiting: wait for them.
        var through = await env.run(["explain", "VirtualMachine/web-1"] + client, withState: false)
        for _ in 0..<50 where !through.out.contains("WaitingForApproval") {
            try await Task.sleep(for: .milliseconds(100))
            through = await env.run(["explain", "VirtualMachine/web-1"] + client, withState: false)
        }
        #expect(through.code == 0, "\(through.err)")
        #expect(
            through.out.hasPrefix("VirtualMachine/web-1: waiting (the leading controller's last pass)"),
            "\(through.out)"
        )
        #expect(
            through.out.contains("waiting for approval: VirtualMachine/web-1:update in plan \(plan)"),
            "\(through.out)"
        )
        #expect(through.out.contains("Ready  False WaitingForApproval since "), "\(through.out)")
        #expect(through.out.contains("Synced False WaitingForApproval since "), "\(through.out)")
        #expect(through.out.contains("What to do: review plan \(plan)"), "\(through.out)")
        let since = { (text: String) in
            text.split(separator: "\n").first { $0.contains("Ready  False") }.flatMap {
                line in line.range(of: "since ").map { String(line[$0.upperBound...].prefix(24)) }
            }
        }
        // Later passes keep the transition time: the status did not change.
        try await Task.sleep(for: .seconds(1))
        let later = await env.run(["explain", "VirtualMachine/web-1"] + client, withState: false)
        #expect(since(later.out) != nil && since(later.out) == since(through.out), "\(through.out)\n\(later.out)")

        // Without a controller: the state's conditions, a fresh plan, the last action, the pending plan.
        let afresh = await env.run(["explain", "VirtualMachine/web-1", env.manifests])
        #expect(afresh.code == 0, "\(afresh.err)")
        #expect(
            afresh.out.hasPrefix(
                "No controller asked (give --controller URL or set SETPOINT_CONTROLLER): planned afresh from"
            ),
            "\(afresh.out)"
        )
        #expect(afresh.out.contains("conditions the leading controller recorded"), "\(afresh.out)")
        #expect(afresh.out.contains("WaitingForApproval"), "\(afresh.out)")
        #expect(afresh.out.contains("now (planned afresh):"), "\(afresh.out)")
        #expect(afresh.out.contains("cores: 2 → 4"), "\(afresh.out)")
        #expect(afresh.out.contains("last action: VirtualMachine/web-1:create succeeded"), "\(afresh.out)")
        #expect(afresh.out.contains("waits for approval in plan \(plan)"), "\(afresh.out)")

        // A resource the manifests do not declare.
        let unknown = await env.run(["explain", "VirtualMachine/nope"] + client, withState: false)
        #expect(unknown.code == 1)
        #expect(unknown.err.contains("VirtualMachine/nope is not declared"), "\(unknown.err)")
        let bad = await env.run(["explain", "web-1"], withState: false)
        #expect(bad.code != 0 && bad.err.contains("'web-1' is not KIND/NAME"), "\(bad.err)")

        kill(process.processIdentifier, SIGTERM)
        #expect(await process.exitStatus(within: .seconds(30)) == 0, "\(output.value.suffix(2000))")
    }
}
