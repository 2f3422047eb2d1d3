import Foundation
import PVESim
import Testing

/// `setpoint doctor` against pve-sim.
@Suite(.timeLimit(.minutes(2))) struct DoctorTests {
    static let guest = """
        apiVersion: setpoint/v1
        kind: VirtualMachine
        metadata: {name: d1}
        spec: {cluster: pve, memory: 1Gi, pool: p}
        ---
        apiVersion: setpoint/v1
        kind: ResourcePool
        metadata: {name: p}
        spec: {cluster: pve}

        """

    @Test func reportsReachabilityTLSVersionAndPrivileges() async throws {
        let env = try await SimEnv()
        defer { Task { await env.stop() } }
        try env.write([Self.guest])
        let ok = await env.run(["doctor", env.manifests], withState: false)
        #expect(ok.code == 0, "\(ok.out)\(ok.err)")
        #expect(ok.out.contains("ProxmoxCluster/pve tls: verified against the CA in \(env.caFile)"))
        #expect(ok.out.contains("Proxmox VE 9.1.2") && ok.out.contains("token root@pam!setpoint accepted"), "\(ok.out)")
        #expect(ok.out.contains("privileges: token holds all"))
        try env.write([Self.guest], tls: "{insecure: true}")
        let insecure = await env.run(["doctor", env.manifests], withState: false)
        #expect(
            insecure.code == 0 && insecure.out.contains("warn ProxmoxCluster/pve tls: insecure: true"),
            "\(insecure.out)"
        )
    }

    @Test func aTokenWithoutThePrivilegesTheManifestsNeedFails() async throws {
        let env = try await SimEnv {
            $0.tokens = [
                TokenSpec(id: "root@pam!setpoint", secret: "5e7d0000-0000-4000-8000-000000000001", role: "PVEAuditor")
            ]
        }
        defer { Task { await env.stop() } }
        try env.write([Self.guest])
        let r = await env.run(["doctor", env.manifests, "--output", "json"], withState: false)
        #expect(r.code == 1)
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: [[String: String]]]
        )
        let privileges = try #require(json["checks"]?.first { $0["check"] == "privileges" })
        #expect(privileges["status"] == "failed")
        #expect(
            privileges["detail"]?.contains("VM.Allocate") == true
                && privileges["detail"]?.contains("Pool.Allocate") == true
        )
    }

    @Test func anUnreachableEndpointFailsWithTheReason() async throws {
        let env = try await SimEnv()
        defer { Task { await env.stop() } }
        let text = env.clusterYAML().replacingOccurrences(
            of: "endpoints: [\"\(env.endpoint)\"]",
            with: "endpoints: [\"https://127.0.0.1:1\", \"\(env.endpoint)\"]"
        )
        try (text + "---\n" + Self.guest).write(
            toFile: env.manifests + "/stack.yaml",
            atomically: true,
            encoding: .utf8
        )
        let r = await env.run(["doctor", env.manifests], withState: false)
        #expect(r.code == 1)
        #expect(r.out.contains("FAIL ProxmoxCluster/pve reach https://127.0.0.1:1"), "\(r.out)")
        #expect(r.out.contains("ok   ProxmoxCluster/pve reach \(env.endpoint)"))
        // Failover: the plan still works through the second endpoint.
        #expect(await env.plan().code == 2)
    }
}
