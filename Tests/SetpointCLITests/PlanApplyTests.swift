import Foundation
import SetpointCLI
import SetpointCore
import SetpointEngine
import SetpointTesting
import Testing

/// plan and apply end to end through SetpointCLI, with the in-memory provider behind the real kinds.
@Suite(.timeLimit(.minutes(2))) struct PlanApplyTests {
    static let cluster = ResourceID(kind: .proxmoxCluster, name: "pve")

    struct Env: Sendable {
        let dir: String
        var provider: InMemoryProvider
        var state: String { dir + "/state/state.db" }
        var manifests: String { dir + "/m" }

        init(failure: @escaping @Sendable (Action) -> String? = { _ in nil }) throws {
            dir =
                FileManager.default.temporaryDirectory.appendingPathComponent("setpoint-e2e-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: dir + "/m", withIntermediateDirectories: true)
            var vm = FieldPolicy()
            vm.stagesRestarts = true
            vm.rule("memory", impact: .restart, reason: "memory is applied at the next restart")
            // A referenced cluster's spec says how to reach it; nothing in it is compared.
            var cluster = FieldPolicy()
            cluster.rule("*", comparison: .ignore)
            provider = InMemoryProvider(
                kinds: [.proxmoxCluster, .resourcePool, .virtualMachine],
                policies: [.virtualMachine: vm, .proxmoxCluster: cluster],
                failure: failure
            )
            // The referenced cluster exists already.
            provider.backend.set(PlanApplyTests.cluster, spec: .map([:]))
        }

        func write(vms: [String: String] = ["api-1": "1Gi", "api-2": "1Gi"], pool: Bool = true) throws {
            var text = """
                apiVersion: setpoint/v1
                kind: ProxmoxCluster
                metadata: {name: pve}
                spec: {endpoints: ["https://pve1:8006"], tokenId: "setpoint@pve!ci", tokenSecret: {env: PVE_TOKEN}}

                """
            if pool {
                text +=
                    "---\napiVersion: setpoint/v1\nkind: ResourcePool\nmetadata: {name: apps}\nspec: {cluster: pve}\n"
            }
            for (name, memory) in vms.sorted(by: { $0.key < $1.key }) {
                text +=
                    "---\napiVersion: setpoint/v1\nkind: VirtualMachine\nmetadata: {name: \(name)}\nspec: {cluster: pve, memory: \(memory)\(pool ? ", pool: apps" : "")}\n"
            }
            try text.write(toFile: manifests + "/stack.yaml", atomically: true, encoding: .utf8)
        }

        func run(_ args: [String], input: String? = nil) async -> (Int32, String, String) {
            let console = Console.capturing()
            let runtime = CLIRuntime(
                providers: [provider],
                secrets: EnvironmentSecretResolver(environment: ["PVE_TOKEN": "t"]),
                input: { input }
            )
            let code = await SetpointCLI.run(args + ["--state", state], console: console, runtime: runtime)
            return (code, console.capturedOut, console.capturedErr)
        }

        func cleanup() { try? FileManager.default.removeItem(atPath: dir) }
    }

    @Test func applyThenPlanIsEmpty() async throws {
        let env = try Env()
        defer { env.cleanup() }
        try env.write()
        let (planCode, planOut, planErr) = await env.run(["plan", env.manifests, "--detailed-exitcode"])
        #expect(planCode == 2, "\(planOut)\(planErr)")
        #expect(planErr.contains("nothing is owned yet"))
        #expect(!FileManager.default.fileExists(atPath: env.state), "plan writes nothing, not even the state file")
        let (applyCode, applyOut, applyErr) = await env.run(["apply", env.manifests, "--auto-approve"])
        #expect(applyCode == 0, "\(applyOut)\(applyErr)")
        #expect(applyOut.contains("VirtualMachine/api-1: create done"))
        #expect(applyOut.contains("Apply complete: 3 done."))
        let (again, againOut, _) = await env.run(["plan", env.manifests, "--detailed-exitcode"])
        #expect(again == 0, "\(againOut)")
        #expect(env.provider.backend.creates.values.allSatisfy { $0 == 1 })
    }

    @Test func aManifestEditIsStagedAndTheRestartWaitsForApproval() async throws {
        let env = try Env()
        defer { env.cleanup() }
        try env.write()
        _ = await env.run(["apply", env.manifests, "--auto-approve"])
        try env.write(vms: ["api-1": "2Gi", "api-2": "1Gi"])
        let (_, plan, _) = await env.run(["plan", env.manifests])
        #expect(plan.contains("VirtualMachine/api-1"))
        let (code, out, _) = await env.run(["apply", env.manifests, "--auto-approve"])
        #expect(code == 3, "risky actions skipped awaiting approval: \(out)")
        #expect(out.contains("VirtualMachine/api-1: restart skipped: awaiting approval"))
        #expect(
            env.provider.backend.entry(ResourceID(kind: .virtualMachine, name: "api-1"))?.pending["memory"]
                == .int(2 << 30)
        )
        let (approved, approvedOut, _) = await env.run([
            "apply", env.manifests, "--auto-approve", "--approve", "VirtualMachine/api-1",
        ])
        #expect(approved == 0, "\(approvedOut)")
        #expect(
            env.provider.backend.entry(ResourceID(kind: .virtualMachine, name: "api-1"))?.spec["memory"]
                == .int(2 << 30)
        )
        #expect(await env.run(["plan", env.manifests, "--detailed-exitcode"]).0 == 0)
    }

    @Test func driftMadeBehindSetpointsBackIsShownAsDrift() async throws {
        let env = try Env()
        defer { env.cleanup() }
        try env.write()
        _ = await env.run(["apply", env.manifests, "--auto-approve"])
        let id = ResourceID(kind: .virtualMachine, name: "api-2")
        env.provider.backend.set(
            id,
            spec: env.provider.backend.entry(id)!.spec.setting(["pool"], to: .string("elsewhere"))
        )
        let (code, json, _) = await env.run(["plan", env.manifests, "--output", "json", "--detailed-exitcode"])
        #expect(code == 2)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(doc["formatVersion"] as? Int == 1)
        let actions = try #require(doc["actions"] as? [[String: Any]])
        let update = try #require(
            actions.first {
                ($0["resource"] as? String) == "VirtualMachine/api-2" && ($0["verb"] as? String) == "update"
            }
        )
        let changes = try #require(update["changes"] as? [[String: Any]])
        #expect(changes.first?["origin"] as? String == "drift")
    }

    @Test func orphansArePrunedOnlyWithTheFlagAndWithinMaxDestroy() async throws {
        let env = try Env()
        defer { env.cleanup() }
        try env.write(vms: ["api-1": "1Gi", "api-2": "1Gi", "api-3": "1Gi"])
        _ = await env.run(["apply", env.manifests, "--auto-approve"])
        try env.write(vms: ["api-1": "1Gi"])
        let (planCode, planOut, _) = await env.run(["plan", env.manifests, "--detailed-exitcode"])
        #expect(planCode == 0, "orphans are listed, not deleted, without --prune: \(planOut)")
        #expect(planOut.contains("VirtualMachine/api-2"))
        let (refused, _, refusedErr) = await env.run([
            "apply", env.manifests, "--prune", "--auto-approve", "--approve", "all-risky",
        ])
        #expect(refused == 1)
        #expect(refusedErr.contains("more than --max-destroy 1"))
        #expect(env.provider.backend.ids.count == 5, "nothing was deleted")
        let (done, doneOut, _) = await env.run([
            "apply", env.manifests, "--prune", "--auto-approve", "--approve", "all-risky", "--max-destroy", "2",
        ])
        #expect(done == 0, "\(doneOut)")
        #expect(env.provider.backend.ids.map(\.name).sorted() == ["api-1", "apps", "pve"])
    }

    @Test func aTargetThatIsNotDeclaredIsAnError() async throws {
        let env = try Env()
        defer { env.cleanup() }
        try env.write()
        let (code, _, err) = await env.run(["plan", env.manifests, "--target", "VirtualMachine/api-9"])
        #expect(code == 1)
        #expect(err.contains("--target VirtualMachine/api-9 is not declared in the manifests"))
    }

    @Test func theInteractiveAnswerDecides() async throws {
        let env = try Env()
        defer { env.cleanup() }
        try env.write()
        let (no, noOut, _) = await env.run(["apply", env.manifests], input: "no")
        #expect(no == 1)
        #expect(noOut.contains("Apply cancelled: nothing was changed."))
        #expect(env.provider.backend.ids == [Self.cluster])
        let (yes, yesOut, _) = await env.run(["apply", env.manifests], input: "yes")
        #expect(yes == 0, "\(yesOut)")
        #expect(env.provider.backend.ids.count == 4)
    }

    @Test func aFailureInADiamondStopsOnlyItsDependents() async throws {
        // pool ← left, right ← bottom (dependsOn both); "other" is unrelated. "left" fails.
        let env = try Env(failure: { $0.resource.name == "left" ? "injected failure" : nil })
        defer { env.cleanup() }
        var text = """
            apiVersion: setpoint/v1
            kind: ProxmoxCluster
            metadata: {name: pve}
            spec: {endpoints: ["https://pve1:8006"], tokenId: "setpoint@pve!ci", tokenSecret: {env: PVE_TOKEN}}
            ---
            apiVersion: setpoint/v1
            kind: ResourcePool
            metadata: {name: apps}
            spec: {cluster: pve}

            """
        for name in ["left", "right", "other"] {
            text +=
                "---\napiVersion: setpoint/v1\nkind: VirtualMachine\nmetadata: {name: \(name)}\nspec: {cluster: pve\(name == "other" ? "" : ", pool: apps")}\n"
        }
        text +=
            "---\napiVersion: setpoint/v1\nkind: VirtualMachine\nmetadata: {name: bottom, dependsOn: [VirtualMachine/left, VirtualMachine/right]}\nspec: {cluster: pve}\n"
        try text.write(toFile: env.manifests + "/diamond.yaml", atomically: true, encoding: .utf8)
        let (code, out, _) = await env.run(["apply", env.manifests, "--auto-approve"])
        #expect(code == 1, "a failed action fails the apply: \(out)")
        #expect(out.contains("VirtualMachine/left: create failed:"))
        #expect(out.contains("injected failure"))
        #expect(
            out.contains(
                "VirtualMachine/bottom: create skipped: depends on VirtualMachine/left:create, which did not succeed"
            )
        )
        #expect(out.contains("VirtualMachine/right: create done"))
        #expect(out.contains("VirtualMachine/other: create done"))
        #expect(env.provider.backend.ids.map(\.name).sorted() == ["apps", "other", "pve", "right"])
    }

    @Test func theShippedBuildHasAProviderForEveryKind() async throws {
        let console = Console.capturing()
        let code = await SetpointCLI.run(
            ["plan", RepoPaths.path("manifests"), "--state", "/nonexistent/state.db"],
            console: console
        )
        #expect(code == 1, "the plan is not applyable")
        #expect(!console.capturedOut.contains("no provider for"), "every kind has a provider: \(console.capturedOut)")
        #expect(
            console.capturedOut.contains("BackupPolicy/"),
            "the backup provider observes the policies: \(console.capturedOut)"
        )
    }
}
