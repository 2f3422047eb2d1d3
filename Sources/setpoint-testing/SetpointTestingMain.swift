import Foundation
import SetpointCLI
import SetpointCore
import SetpointEngine
import SetpointTesting

/// `setpoint-testing`: the `setpoint` commands with the in-memory provider behind ProxmoxCluster, ResourcePool and
/// VirtualMachine, for tests that need a separate process (signals, two processes). Never shipped.
///
/// `SETPOINT_TEST_LATENCY_MS` slows every apply down.
@main
struct SetpointTestingMain {
    static func main() async {
        let env = ProcessInfo.processInfo.environment
        let latency = Int(env["SETPOINT_TEST_LATENCY_MS"] ?? "") ?? 0
        var cluster = FieldPolicy()
        cluster.rule("*", comparison: .ignore)
        let provider = InMemoryProvider(
            kinds: [.proxmoxCluster, .resourcePool, .virtualMachine], policies: [.proxmoxCluster: cluster],
            latency: .milliseconds(latency))
        provider.backend.set(ResourceID(kind: .proxmoxCluster, name: "pve"), spec: .map([:]))
        let runtime = CLIRuntime(providers: [provider], secrets: EnvironmentSecretResolver())
        let code = await SetpointCLI.run(Array(CommandLine.arguments.dropFirst()), console: .standard(), runtime: runtime)
        exit(code)
    }
}
