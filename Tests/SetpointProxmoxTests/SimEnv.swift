import Foundation
import Logging
import PVESim
import SetpointCLI
import SetpointCore
import SetpointEngine
import SetpointProxmox
import SetpointTesting
import Testing

/// pve-sim over HTTPS on a free port, a temporary directory with its CA, manifests and state, and the shipped
/// Proxmox provider driven through SetpointCLI in-process.
final class SimEnv: Sendable {
    let dir: String
    let running: PVESimServer.Running
    let provider = ProxmoxProvider()
    var sim: PVESimulator { running.simulator }
    var state: String { dir + "/state.db" }
    var manifests: String { dir + "/m" }
    var caFile: String { dir + "/ca.pem" }
    var endpoint: String { "https://127.0.0.1:\(running.port)" }

    init(_ configure: (inout SimOptions) -> Void = { _ in }) async throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("setpoint-pve-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir + "/m", withIntermediateDirectories: true)
        var options = SimOptions()
        options.taskSeconds = 0.02
        configure(&options)
        let tls = try SelfSignedCA.make()
        try tls.caPEM.write(toFile: dir + "/ca.pem", atomically: true, encoding: .utf8)
        var logger = Logger(label: "pve-sim-test")
        logger.logLevel = .critical
        running = try await PVESimServer.start(PVESimulator(options: options), port: 0, tls: tls, logger: logger)
    }

    func stop() async {
        await running.stop()
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// The ProxmoxCluster document, with TLS settings as given.
    func clusterYAML(tls: String? = nil) -> String {
        """
        apiVersion: setpoint/v1
        kind: ProxmoxCluster
        metadata: {name: pve}
        spec:
          endpoints: ["\(endpoint)"]
          tokenId: "root@pam!setpoint"
          tokenSecret: {env: PVE_TOKEN}
          tls: \(tls ?? "{caFile: \(caFile)}")

        """
    }

    /// Writes `stack.yaml`: the cluster plus these documents.
    func write(_ documents: [String], tls: String? = nil) throws {
        let text = ([clusterYAML(tls: tls)] + documents).joined(separator: "---\n")
        try text.write(toFile: manifests + "/stack.yaml", atomically: true, encoding: .utf8)
    }

    static let token = "5e7d0000-0000-4000-8000-000000000001"

    func run(
        _ args: [String],
        withState: Bool = true,
        token: String = SimEnv.token
    ) async -> (code: Int32, out: String, err: String) {
        let console = Console.capturing()
        let runtime = CLIRuntime(
            providers: [provider],
            secrets: EnvironmentSecretResolver(environment: ["PVE_TOKEN": token])
        )
        let code = await SetpointCLI.run(
            args + (withState ? ["--state", state] : []),
            console: console,
            runtime: runtime
        )
        return (code, console.capturedOut, console.capturedErr)
    }

    /// `apply --auto-approve` plus any approvals; records a failure with the output when it does not succeed.
    @discardableResult
    /// `expect` 3 when actions are left awaiting approval.
    func apply(
        _ extra: [String] = [],
        expect: Int32 = 0,
        sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) async -> String {
        let r = await run(["apply", manifests, "--auto-approve"] + extra)
        #expect(r.code == expect, "apply exited \(r.code):\n\(r.out)\(r.err)", sourceLocation: sourceLocation)
        return r.out + r.err
    }

    /// `plan --detailed-exitcode`: 0 no changes, 2 changes.
    func plan(_ extra: [String] = []) async -> (code: Int32, text: String) {
        let r = await run(["plan", manifests, "--detailed-exitcode"] + extra)
        return (r.code, r.out + r.err)
    }

    func planJSON(_ extra: [String] = []) async throws -> [String: Any] {
        let r = await run(["plan", manifests, "--output", "json"] + extra)
        return try #require(
            try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any],
            "\(r.out)\(r.err)"
        )
    }

    /// The guest with this name in the simulator.
    func guest(named name: String) async -> Guest? {
        await sim.snapshot.guests.values.first { $0.name == name }
    }

    /// A direct API call to the simulator (an operator at the PVE GUI), as root's token.
    @discardableResult
    func pve(_ method: String, _ path: String, _ params: [String: String] = [:]) async -> SimResponse {
        await sim.handle(
            SimRequest(
                method: method,
                path: path,
                params: params,
                headers: ["authorization": "PVEAPIToken=root@pam!setpoint=5e7d0000-0000-4000-8000-000000000001"]
            )
        )
    }

    /// Lets the simulator's running tasks finish.
    func settle() async throws {
        for _ in 0..<100 {
            let running = await sim.snapshot.tasks.contains(where: \.isRunning)
            if !running { return }
            try await Task.sleep(for: .milliseconds(20))
            _ = await pve("GET", "/version")
        }
    }
}

/// A JSON plan's actions by verb (`update`, `restart`, `migrate` …).
func actionsByVerb(_ plan: [String: Any]) -> [String: [String: Any]] {
    var result: [String: [String: Any]] = [:]
    for a in plan["actions"] as? [[String: Any]] ?? [] { result[a["verb"] as? String ?? ""] = a }
    return result
}

extension String {
    /// The plan actions of a text plan, e.g. `~ VirtualMachine/web update`.
    func contains(all parts: [String]) -> Bool { parts.allSatisfy { contains($0) } }
}

extension SimEnv {
    /// A guest made before Setpoint (VMID 321, `legacy`), for the import tests.
    func makeLegacyGuest() async throws {
        await pve(
            "POST",
            "/nodes/pve1/qemu",
            [
                "vmid": "321", "name": "legacy", "memory": "1024", "cores": "2", "scsi0": "ceph:4",
                "net0": "virtio,bridge=vmbr0", "start": "1",
            ]
        )
        try await settle()
    }

    /// Its manifest: one difference (the description); `annotations` as given.
    static func legacyYAML(annotations: String? = nil) -> String {
        """
        apiVersion: setpoint/v1
        kind: VirtualMachine
        metadata:
          name: legacy
        \(annotations.map { "  annotations: \($0)\n" } ?? "")spec:
          cluster: pve
          node: pve1
          cores: 2
          memory: 1Gi
          description: now managed
          disks: {scsi0: {storage: ceph, size: 4Gi}}
          networks: {net0: {bridge: vmbr0}}

        """
    }
}
