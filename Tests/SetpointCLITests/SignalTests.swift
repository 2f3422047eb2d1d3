import Foundation
import SetpointCore
import SetpointState
import SetpointTesting
import Synchronization
import Testing

/// SIGTERM in the middle of an apply, against a separate process (`setpoint-testing`).
@Suite(.timeLimit(.minutes(5))) struct SignalTests {
    @Test func sigtermLetsInFlightActionsFinishAndReportsWhatDidNotStart() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("setpoint-sig-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var text =
            "apiVersion: setpoint/v1\nkind: ProxmoxCluster\nmetadata: {name: pve}\n"
            + "spec: {endpoints: [\"https://pve1:8006\"], tokenId: \"setpoint@pve!ci\", tokenSecret: {env: PVE_TOKEN}}\n"
        for i in 1...5 {
            text +=
                "---\napiVersion: setpoint/v1\nkind: VirtualMachine\nmetadata: {name: vm-\(i)}\nspec: {cluster: pve, cores: 1}\n"
        }
        try text.write(toFile: dir + "/stack.yaml", atomically: true, encoding: .utf8)

        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
            "setpoint-testing"
        ).path
        try #require(FileManager.default.isExecutableFile(atPath: binary), "no setpoint-testing at \(binary)")
        // SIGTERM the moment the first action starts, sent by the thread that reads the output (a test task could be
        // scheduled seconds later on a loaded machine).
        let process = try ChildProcess.start(
            [
                binary, "apply", dir + "/stack.yaml", "--auto-approve", "--parallelism", "1", "--state",
                dir + "/state.db",
            ],
            environment: ["SETPOINT_TEST_LATENCY_MS": "1500", "PVE_TOKEN": "t", "PATH": "/usr/bin:/bin"],
            signalWhen: ("create…", SIGTERM)
        )
        let output = process.output
        // Wait for the first action to start, then ask the process to stop.
        var waited = 0
        while !output.value.contains("create…"), waited < 20_000 {
            try await Task.sleep(for: .milliseconds(10))
            waited += 10
        }
        try #require(output.value.contains("create…"), "apply never started: \(output.value)")
        await process.exitStatus()
        let text2 = output.value
        #expect(process.terminationReason == .exit, "SIGTERM is handled, not fatal: \(text2)")
        #expect(process.terminationStatus == 1)
        #expect(text2.contains("Interrupted:"), "\(text2)")
        // What finished and what never started together cover every action; state records exactly what finished.
        let names = (1...5).map { "vm-\($0)" }
        let done = names.filter { text2.contains("VirtualMachine/\($0): create done") }
        let notStarted = names.filter { text2.contains("  VirtualMachine/\($0):create\n") }
        #expect(!done.isEmpty, "the action in flight finished: \(text2)")
        #expect(!notStarted.isEmpty, "\(text2)")
        #expect(Set(done).union(notStarted) == Set(names), "\(text2)")
        #expect(Set(done).isDisjoint(with: notStarted))
        let store = try #require(try SQLiteStateStore.openReadOnly(path: dir + "/state.db"))
        let owned = try await store.ownedResources()
        #expect(owned.keys.map(\.name).sorted() == done, "what finished is recorded, nothing else")
    }
}
