// Plan against pve-sim, as `setpoint plan` does for a large Proxmox estate: N existing guests behind 2 ms of
// latency on every request, over HTTPS. Prints wall time, requests and peak RSS per run (targets: ≤ N+3 requests,
// ≤ 2 s for 2,000 guests). A plain executable: package-benchmark's runner, with its malloc interposer, does not run
// a process that serves HTTPS in-process here (it exits without a result), so this probe measures instead.
//   swift run -c release --scratch-path ../.build-benchmarks ProxmoxPlanProbe [GUESTS] [RUNS]
import Foundation
import Logging
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
    /// A pve-sim started apart (`--endpoint URL --ca FILE`): this process's CPU is then the client's alone.
    let external: (endpoint: String, ca: String)?

    init(guests: Int, latency: Duration, external: (endpoint: String, ca: String)?) {
        self.guests = guests
        self.latency = latency
        self.external = external
    }

    func setUp() async throws {
        directory = (NSTemporaryDirectory() as NSString).appendingPathComponent("setpoint-bench-pve-\(getpid())")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let endpoint: String
        if let external {
            endpoint = external.endpoint
            try FileManager.default.copyItem(atPath: external.ca, toPath: directory + "/ca.pem")
        } else {
            var options = SimOptions()
            options.nodes = 3
            options.guests = guests
            options.guestTags = ["setpoint"]
            options.latency = latency
            let tls = try SelfSignedCA.make()
            var logger = Logger(label: "pve-sim")
            logger.logLevel = .critical  // stopping logs the cancelled keep-alive connections
            running = try await PVESimServer.start(PVESimulator(options: options), port: 0, tls: tls, logger: logger)
            endpoint = "https://127.0.0.1:\(running!.port)"
            try tls.caPEM.write(toFile: directory + "/ca.pem", atomically: true, encoding: .utf8)
        }
        var text = """
            apiVersion: setpoint/v1
            kind: ProxmoxCluster
            metadata: {name: pve}
            spec: {endpoints: ["\(endpoint)"], tokenId: "root@pam!setpoint", tokenSecret: {env: PVE_TOKEN}, tls: {caFile: \(directory)/ca.pem}, maxConcurrentRequests: 16}

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
        guard set?.isValid == true else {
            fatalError("the estate's manifests do not load: \(set?.diagnostics.first.map { "\($0)" } ?? "")")
        }
    }

    func tearDown() async {
        await running?.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// One plan: observe every guest through the provider, diff, plan. Returns the plan and the requests it cost.
    func plan(_ provider: ProxmoxProvider) async throws -> (Plan, Int) {
        await running?.simulator.resetRequestCounts()
        let resources = set!.resources
        let context = ProviderContext(
            secrets: EnvironmentSecretResolver(environment: ["PVE_TOKEN": "5e7d0000-0000-4000-8000-000000000001"]),
            declared: Dictionary(uniqueKeysWithValues: resources.map { ($0.id, $0) })
        )
        let pipeline = PlanPipeline(
            registry: try ProviderRegistry([provider]),
            context: context,
            store: InMemoryStateStore()
        )
        let plan = try await pipeline.plan(resources)
        return (plan, await running?.simulator.totalRequests ?? -1)
    }
}

func peakRSSMiB() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
        let kb = Int(line.split(separator: " ", omittingEmptySubsequences: true)[1])
    else { return -1 }
    return kb / 1024
}

/// This process's CPU time (user + system) so far.
func cpu() -> Duration {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func d(_ t: timeval) -> Duration { .seconds(Int64(t.tv_sec)) + .microseconds(Int64(t.tv_usec)) }
    return d(usage.ru_utime) + d(usage.ru_stime)
}

let all = Array(CommandLine.arguments.dropFirst())
func option(_ name: String) -> String? { all.firstIndex(of: name).flatMap { $0 + 1 < all.count ? all[$0 + 1] : nil } }
let arguments = all.filter { !$0.hasPrefix("--") && option("--endpoint") != $0 && option("--ca") != $0 }
    .compactMap(Int.init)
let guests = arguments.first ?? 2000
let runs = arguments.dropFirst().first ?? 5
let external = option("--endpoint").map { ($0, option("--ca") ?? "ca.pem") }
let estate = Estate(guests: guests, latency: .milliseconds(2), external: external)
try await estate.setUp()
let provider = ProxmoxProvider()
for run in 1...runs {
    let start = ContinuousClock.now
    let cpuBefore = cpu()
    let (plan, requests) = try await estate.plan(provider)
    let elapsed = ContinuousClock.now - start
    let used = cpu() - cpuBefore
    let errors = plan.diagnostics.filter { $0.severity == .error }
    print(
        "run \(run): \(guests) guests, \(elapsed) wall, \(used) CPU (\(external == nil ? "client and simulator" : "client")), "
            + "\(requests) requests (N+3 = \(guests + 3)), "
            + "\(plan.actions.filter(\.isChange).count) changes, \(errors.count) errors, peak RSS \(peakRSSMiB()) MiB"
    )
    if let first = errors.first { print("  first error: \(first.summary)") }
}
await estate.tearDown()
