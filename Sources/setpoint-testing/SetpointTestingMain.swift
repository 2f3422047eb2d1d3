import Foundation
import SetpointCLI
import SetpointCore
import SetpointEngine
import SetpointTesting

/// `setpoint-testing`: the `setpoint` commands with the in-memory provider behind ProxmoxCluster, ResourcePool and
/// VirtualMachine, for tests that need a separate process (signals, two processes). Never shipped.
///
/// `SETPOINT_TEST_LATENCY_MS` slows every apply down; `SETPOINT_TEST_BACKEND_FILE` keeps the in-memory system in a
/// file across processes; `SETPOINT_TEST_IDENTIFY_BY_ID=1` finds objects only by the id Setpoint knows (like Proxmox)
/// and journals reserved ids; `SETPOINT_TEST_SETTLE_MS` is how long a create takes after the object exists.
@main
struct SetpointTestingMain {
    static func main() async {
        let env = ProcessInfo.processInfo.environment
        let latency = Int(env["SETPOINT_TEST_LATENCY_MS"] ?? "") ?? 0
        var cluster = FieldPolicy()
        cluster.rule("*", comparison: .ignore)
        let backend = env["SETPOINT_TEST_BACKEND_FILE"].map { InMemoryBackend(file: $0) } ?? InMemoryBackend()
        var provider = InMemoryProvider(
            kinds: [.proxmoxCluster, .resourcePool, .virtualMachine],
            backend: backend,
            policies: [.proxmoxCluster: cluster],
            latency: .milliseconds(latency)
        )
        provider.identifiesByProviderID = env["SETPOINT_TEST_IDENTIFY_BY_ID"] == "1"
        provider.settleLatency = .milliseconds(Int(env["SETPOINT_TEST_SETTLE_MS"] ?? "") ?? 0)
        if backend.entry(ResourceID(kind: .proxmoxCluster, name: "pve")) == nil {
            backend.set(ResourceID(kind: .proxmoxCluster, name: "pve"), spec: .map([:]))
        }
        let runtime = CLIRuntime(providers: [provider], secrets: EnvironmentSecretResolver())
        let code = await SetpointCLI.run(
            Array(CommandLine.arguments.dropFirst()),
            console: .standard(),
            runtime: runtime
        )
        exit(code)
    }
}
