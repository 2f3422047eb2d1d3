import Foundation
import SetpointCLI
import SetpointCore
import SetpointEngine
import SetpointTesting
import Testing

/// `setpoint import`: adopt an existing object; afterwards the plan shows only its differences to the manifest.
@Suite(.timeLimit(.minutes(2))) struct ImportTests {
    @Test func anImportedObjectPlansAsAnUpdateNotACreate() async throws {
        var env = try PlanApplyTests.Env()
        defer { env.cleanup() }
        env.provider.identifiesByProviderID = true
        try env.write(vms: ["api-1": "1Gi"], pool: false)
        let id = ResourceID(kind: .virtualMachine, name: "api-1")
        // Made by hand before Setpoint: another memory size, and a field the manifest does not manage.
        env.provider.backend.set(
            id,
            spec: .map(["cluster": .string("pve"), "memory": .int(512 << 20), "description": .string("hand-made")]),
            providerID: "555"
        )
        let (_, before, _) = await env.run(["plan", env.manifests])
        #expect(before.contains("+ VirtualMachine/api-1"), "unknown to Setpoint: a create\n\(before)")

        let (missing, _, missingErr) = await env.run(["import", "VirtualMachine/api-1", env.manifests, "--id", "999"])
        #expect(missing == 1)
        #expect(missingErr.contains("no existing object found for VirtualMachine/api-1 with id 999"))

        let (code, out, err) = await env.run([
            "import", "VirtualMachine/api-1", env.manifests, "--id", "555", "--as", "carol@example.net",
        ])
        #expect(code == 0, "\(out)\(err)")
        #expect(out.contains("imported VirtualMachine/api-1 (id 555)"))

        let (planCode, json, _) = await env.run(["plan", env.manifests, "--output", "json", "--detailed-exitcode"])
        #expect(planCode == 2)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let actions = (doc["actions"] as? [[String: Any]] ?? []).filter { ($0["verb"] as? String) != "noop" }
        // memory is restart-impact for this provider: staged by the update, made live by an approved restart.
        #expect(
            actions.map { "\($0["resource"]!) \($0["verb"]!)" } == [
                "VirtualMachine/api-1 update", "VirtualMachine/api-1 restart",
            ]
        )
        let changes = try #require(actions.first?["changes"] as? [[String: Any]])
        #expect(
            changes.map { $0["path"] as? String } == ["memory"],
            "only the manifest's differences; description stays unmanaged"
        )
        #expect(changes.first?["origin"] as? String == "manifest")

        let (again, _, againErr) = await env.run(["import", "VirtualMachine/api-1", env.manifests, "--id", "555"])
        #expect(again == 1)
        #expect(againErr.contains("already owned"))
        let (log, _, _) = await env.run(["audit", "log"])
        #expect(log == 0)
    }
}
