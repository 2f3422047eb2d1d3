// Plan benchmark against pve-sim: 2,000 existing guests, 2 ms of latency on every request, over HTTPS.
// What `setpoint plan` does for a large Proxmox estate: one /cluster/resources, one …/pending per guest at the
// cluster's request concurrency, then diff and plan. The request count is printed once per run (target ≤ N+3).
// Run from Benchmarks/:
//   swift package --scratch-path ../.build-benchmarks benchmark --filter Proxmox
import Benchmark
import Foundation
import PVESim
import SetpointCore
import SetpointEngine
import SetpointManifest
import SetpointProxmox
import SetpointTesting

/// The simulated estate and the manifests that declare it.
final class Estate: @unchecked Sendable {
    let guests: Int
    let latency: Duration
    var running: PVESimServer.Running?
    var directory = ""
    var set: ManifestSet?

    init(guests: Int, latency: Duration) {
        self.guests = guests
        self.latency = latency
    }

    func setUp() async throws {
        var options = SimOptions()
        options.nodes = 3
        options.guests = guests
        options.guestTags = ["setpoint"]
        options.latency = latency
        let tls = try SelfSignedCA.make()
        running = try await PVESimServer.start(PVESimulator(options: options), port: 0, tls: tls)
        directory = (NSTemporaryDirectory() as NSString).appendingPathComponent("setpoint-bench-pve-\(getpid())")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try tls.caPEM.write(toFile: directory + "/ca.pem", atomically: true, encoding: .utf8)
        var text = """
            apiVersion: setpoint/v1
            kind: ProxmoxCluster
            metadata: {name: pve}
            spec: {endpoints: ["https://127.0.0.1:\(running!.port)"], tokenId: "root@pam!setpoint", tokenSecret: {env: PVE_TOKEN}, tls: {caFile: \(directory)/ca.pem}, maxConcurrentRequests: 16}

            """
        for i in 0..<guests {
            let vmid = 100 + i
            text += """
                ---
                apiVersion: setpoint/v1
                kind: VirtualMachine
                metadata: {name: sim-\(vmid)}
                spec:
                  cluster: pve
                  vmid: \(vmid)
                  node: pve\(i % 3 + 1)
                  cores: 2
                  memory: 2Gi
                  disks: {scsi0: {storage: ceph, size: 8Gi}}
                  networks: {net0: {bridge: vmbr0}}

                """
        }
        try text.write(toFile: directory + "/estate.yaml", atomically: true, encoding: .utf8)
        set = ManifestLoader().load(paths: [directory])
        guard set?.isValid == true else { fatalError("the estate's manifests do not load: \(set?.diagnostics.first.map { "\($0)" } ?? "")") }
    }

    func tearDown() async {
        await running?.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// One plan: observe every guest through the provider, diff, plan. Returns the plan and the requests it cost.
    func plan(_ provider: ProxmoxProvider) async throws -> (Plan, Int) {
        let sim = running!.simulator
        await sim.resetRequestCounts()
        let resources = set!.resources
        let context = ProviderContext(secrets: EnvironmentSecretResolver(environment: ["PVE_TOKEN": "5e7d0000-0000-4000-8000-000000000001"]),
                                      declared: Dictionary(uniqueKeysWithValues: resources.map { ($0.id, $0) }))
        let pipeline = PlanPipeline(registry: try ProviderRegistry([provider]), context: context, store: InMemoryStateStore())
        let plan = try await pipeline.plan(resources)
        return (plan, await sim.totalRequests)
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.wallClock, .peakMemoryResident], maxDuration: .seconds(60), maxIterations: 5)
    for guests in [200, 2000] {
        let estate = Estate(guests: guests, latency: .milliseconds(2))
        Benchmark("Proxmox plan \(guests) guests, 2 ms latency", configuration: .init(
            setup: { try await estate.setUp() }, teardown: { await estate.tearDown() })) { benchmark in
            let provider = ProxmoxProvider()
            for _ in benchmark.scaledIterations {
                let (plan, requests) = try await estate.plan(provider)
                guard plan.diagnostics.filter({ $0.severity == .error }).isEmpty else {
                    fatalError("the plan has errors: \(plan.diagnostics.first.map { "\($0.summary)" } ?? "")")
                }
                print("Proxmox plan \(guests) guests: \(requests) requests (N+3 = \(guests + 3)), \(plan.actions.filter(\.isChange).count) changes")
                blackHole(plan)
            }
        }
    }
}
