import Foundation
import SetpointController
import SetpointCore
import SetpointEngine
import SetpointTesting
import Synchronization
import Testing

/// A pass whose actions fail: a transient failure backs off and is retried when due; a terminal one (a refused
/// parameter, a missing privilege) parks its resource until its manifest changes; neither holds back the other.
@Suite(.timeLimit(.minutes(2))) struct TerminalFailureTests {
    static func manifests(_ dir: String, memory: [String: String]) throws {
        var text = """
            apiVersion: setpoint/v1
            kind: ProxmoxCluster
            metadata: {name: pve}
            spec: {endpoints: ["https://pve1:8006"], tokenId: "setpoint@pve!ci", tokenSecret: {env: PVE_TOKEN}}

            """
        for (name, m) in memory.sorted(by: { $0.key < $1.key }) {
            text +=
                "---\napiVersion: setpoint/v1\nkind: VirtualMachine\nmetadata: {name: \(name)}\nspec: {cluster: pve, memory: \(m)}\n"
        }
        try text.write(toFile: dir + "/stack.yaml", atomically: true, encoding: .utf8)
    }

    /// A folder of its own, and a reconciler over it with the in-memory provider (the referenced cluster exists).
    static func reconciler(
        _ failure: @escaping @Sendable (Action) -> String?
    ) throws -> (dir: String, Reconciler, InMemoryProvider) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "setpoint-controller-\(UUID().uuidString)"
        ).path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var cluster = FieldPolicy()
        cluster.rule("*", comparison: .ignore)
        let provider = InMemoryProvider(
            kinds: [.proxmoxCluster, .virtualMachine],
            policies: [.proxmoxCluster: cluster],
            failure: failure
        )
        provider.backend.set(ResourceID(kind: .proxmoxCluster, name: "pve"), spec: .map([:]))
        let reconciler = Reconciler(
            Reconciler.Configuration(
                paths: [dir],
                providers: [provider],
                secrets: EnvironmentSecretResolver(environment: ["PVE_TOKEN": "t"])
            ),
            store: InMemoryStateStore()
        )
        return (dir, reconciler, provider)
    }

    @Test func aTerminalFailureParksUntilTheManifestChangesATransientOneIsRetriedAndOthersGoOn() async throws {
        // bad-1 is refused as PVE refuses a bad parameter (400) until its memory is 2Gi; flaky-1 fails once, transiently.
        let flakyFailed = Mutex(false)
        let (dir, reconciler, provider) = try Self.reconciler { action in
            if action.resource.name == "bad-1", action.desired?["memory"] != .int(2 << 30) {
                return "terminal: 400 Parameter verification failed (memory: value does not match the regex pattern)"
            }
            if action.resource.name == "flaky-1" {
                return flakyFailed.withLock { failed in
                    defer { failed = true }
                    return failed ? nil : "596 Connection timed out"
                }
            }
            return nil
        }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.manifests(dir, memory: ["bad-1": "1Gi", "flaky-1": "1Gi", "good-1": "1Gi"])
        let t0 = Date()
        let first = await reconciler.pass(now: t0)
        #expect(first.applied.contains("VirtualMachine/good-1:create"), "an unrelated resource is applied: \(first)")
        #expect(
            first.failed.keys.sorted() == ["VirtualMachine/bad-1:create", "VirtualMachine/flaky-1:create"],
            "\(first.failed)"
        )
        let bad = try #require(reconciler.retries[ResourceID(kind: .virtualMachine, name: "bad-1")])
        let flaky = try #require(reconciler.retries[ResourceID(kind: .virtualMachine, name: "flaky-1")])
        #expect(bad.nextRetry == nil && bad.parkedDigest != nil, "terminal: parked, no retry time")
        #expect(flaky.nextRetry != nil && flaky.parkedDigest == nil, "transient: backing off")

        // An hour later: the transient one is retried and succeeds; the terminal one stays parked, saying why.
        let later = await reconciler.pass(now: t0.addingTimeInterval(3600))
        #expect(later.applied == ["VirtualMachine/flaky-1:create"], "\(later)")
        let held = try #require(later.held["VirtualMachine/bad-1:create"])
        #expect(
            held.contains("parked until its manifest changes") && held.contains("400 Parameter verification failed"),
            "\(held)"
        )
        #expect(
            provider.backend.entry(ResourceID(kind: .virtualMachine, name: "bad-1")) == nil,
            "never retried while parked"
        )

        // The manifest is fixed: tried at once, and applied.
        try Self.manifests(dir, memory: ["bad-1": "2Gi", "flaky-1": "1Gi", "good-1": "1Gi"])
        let fixed = await reconciler.pass(now: t0.addingTimeInterval(3601))
        #expect(fixed.applied == ["VirtualMachine/bad-1:create"] && fixed.isSuccess, "\(fixed)")
        #expect(reconciler.retries.isEmpty)
    }

    /// A manifest that once trapped the parser (a YAML 1.1 base-60 integer past 64 bits, in a string field) is a load
    /// error of that file: the pass reports it and applies nothing, the last good desired state stays in force, and
    /// the next good edit is applied.
    @Test func aManifestThatOverflowsIsALoadErrorAndTheLastGoodStateStays() async throws {
        let (dir, reconciler, provider) = try Self.reconciler { _ in nil }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.manifests(dir, memory: ["web-1": "1Gi"])
        let first = await reconciler.pass()
        #expect(first.applied == ["VirtualMachine/web-1:create"], "\(first)")
        for value in ["153722867280912931:00", "1:00:00:00:00:00:00:00:00:00:00:00:00"] {
            try
                "apiVersion: setpoint/v1\nkind: VirtualMachine\nmetadata: {name: web-2}\nspec: {cluster: pve, description: \(value)}\n"
                .write(toFile: dir + "/bad.yaml", atomically: true, encoding: .utf8)
            let bad = await reconciler.pass()
            #expect(bad.applied.isEmpty && bad.declared.isEmpty, "\(bad)")
            #expect(bad.errors.contains { $0.contains("bad.yaml:4:") && $0.contains("SP1004") }, "\(bad.errors)")
            #expect(
                reconciler.desired?.resources.map(\.id.name).sorted() == ["pve", "web-1"],
                "the last good manifests stay in force"
            )
            #expect(provider.backend.entry(ResourceID(kind: .virtualMachine, name: "web-1")) != nil)
        }
        try
            "apiVersion: setpoint/v1\nkind: VirtualMachine\nmetadata: {name: web-2}\nspec: {cluster: pve, description: \"1:00\"}\n"
            .write(toFile: dir + "/bad.yaml", atomically: true, encoding: .utf8)
        let fixed = await reconciler.pass()
        #expect(fixed.applied == ["VirtualMachine/web-2:create"], "\(fixed)")
    }
}
