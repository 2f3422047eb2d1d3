import Foundation
import PVESim
import SetpointCore
import SetpointState
import Testing

/// `setpoint controller` passes against pve-sim: it converges, corrects drift (or only reports it), and parks risky
/// changes in one pending plan that repeated passes reuse.
@Suite struct ControllerTests {
    static func vm(cores: Int, approval: Bool = false) -> String {
        """
        apiVersion: setpoint/v1
        kind: VirtualMachine
        metadata:
          name: web-1
        \(approval ? "  annotations: {setpoint/approval: required}\n" : "")spec:
          cluster: pve
          node: pve1
          cores: \(cores)
          memory: 2Gi
          disks:
            scsi0: {storage: local-lvm, size: 8Gi}

        """
    }

    func pass(_ env: SimEnv, _ extra: [String] = []) async -> (code: Int32, out: String) {
        let r = await env.run(["controller", env.manifests, "--once"] + extra)
        return (r.code, r.out + r.err)
    }

    @Test func aPassConvergesCorrectsDriftOrReportsItAndParksRiskyChangesInOnePendingPlan() async throws {
        let env = try await SimEnv()
        defer { Task { await env.stop() } }
        try env.write([Self.vm(cores: 2)])
        let first = await pass(env)
        #expect(first.code == 0 && first.out.contains("applied VirtualMachine/web-1:create"), "\(first.out)")
        let guest = try #require(await env.guest(named: "web-1"))
        #expect(await pass(env).out.contains("in sync"))

        // Memory changed behind Setpoint's back: corrected in the next pass, and the audit log says it was drift.
        await env.pve("PUT", "/nodes/pve1/qemu/\(guest.vmid)/config", ["memory": "4096"])
        try await env.settle()
        let corrected = await pass(env)
        #expect(corrected.out.contains(all: ["drift: VirtualMachine/web-1", "applied VirtualMachine/web-1:update"]), "\(corrected.out)")
        let fixed = await env.guest(named: "web-1")
        #expect((fixed?.pending["memory"] ?? fixed?.config["memory"]) == "2048", "the staged change was reverted")
        let audit = await env.run(["audit", "log", "--output", "json"])
        #expect(audit.out.contains("\"origin\":\"drift\"") || audit.out.contains("\"origin\": \"drift\""), "\(audit.out.suffix(600))")

        // With drift reported only, it stays as it is.
        await env.pve("PUT", "/nodes/pve1/qemu/\(guest.vmid)/config", ["memory": "4096"])
        try await env.settle()
        let reported = await pass(env, ["--drift-policy", "report"])
        #expect(reported.out.contains(all: ["drift: VirtualMachine/web-1", "drift reported, not corrected"]), "\(reported.out)")
        let left = await env.guest(named: "web-1")
        #expect((left?.pending["memory"] ?? left?.config["memory"]) == "4096", "\(reported.out)")
        _ = await pass(env)

        // A change that needs approval waits in a pending plan; passes reuse it rather than making new ones.
        try env.write([Self.vm(cores: 4, approval: true)])
        let waiting = await pass(env)
        let again = await pass(env)
        let id = try #require(waiting.out.range(of: "plan p-").map { String(waiting.out[$0.lowerBound...].dropFirst(5).prefix(14)) })
        #expect(waiting.out.contains("waiting for approval") && again.out.contains(id), "\(waiting.out)\n\(again.out)")
        #expect(await env.guest(named: "web-1")?.config["cores"] == "2", "nothing changes until approved")
        let store = try #require(try SQLiteStateStore.openReadOnly(path: env.state))
        #expect(try await store.storedPlans(status: .pending).map(\.id) == [id], "one pending plan, reused")
    }
}
