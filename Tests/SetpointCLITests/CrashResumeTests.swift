import Foundation
import SetpointCore
import SetpointState
import SetpointTesting
import Synchronization
import Testing

/// kill -9 in the middle of an apply, then apply again: nothing is created twice, and the audit log shows the
/// interruption and the resumption. The in-memory system lives in a file and, like Proxmox, finds objects only by
/// the id Setpoint knows — so only the action journal (the id reserved before the create) prevents a duplicate.
@Suite(.timeLimit(.minutes(5)), .serialized) struct CrashResumeTests {
    static let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        .appendingPathComponent("setpoint-testing").path

    static func run(_ dir: String, settleMS: Int) throws -> ChildProcess {
        try ChildProcess.start(
            [
                binary, "apply", dir + "/stack.yaml", "--auto-approve", "--parallelism", "2", "--state",
                dir + "/state.db",
            ],
            environment: [
                "SETPOINT_TEST_BACKEND_FILE": dir + "/system.json", "SETPOINT_TEST_IDENTIFY_BY_ID": "1",
                "SETPOINT_TEST_SETTLE_MS": String(settleMS), "PVE_TOKEN": "t", "PATH": "/usr/bin:/bin",
            ]
        )
    }

    @Test func killedMidApplyResumesWithoutCreatingAnythingTwice() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "no setpoint-testing at \(Self.binary)")
        let names = (1...10).map { "vm-\($0)" }
        var interruptedRuns = 0
        for iteration in 0..<10 {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
                "setpoint-crash-\(UUID().uuidString)"
            ).path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            var text =
                "apiVersion: setpoint/v1\nkind: ProxmoxCluster\nmetadata: {name: pve}\n"
                + "spec: {endpoints: [\"https://pve1:8006\"], tokenId: \"setpoint@pve!ci\", tokenSecret: {env: PVE_TOKEN}}\n"
            for name in names {
                text +=
                    "---\napiVersion: setpoint/v1\nkind: VirtualMachine\nmetadata: {name: \(name)}\nspec: {cluster: pve, cores: 1}\n"
            }
            try text.write(toFile: dir + "/stack.yaml", atomically: true, encoding: .utf8)

            // Each create takes 400 ms after the object exists; kill at a different moment each time.
            let first = try Self.run(dir, settleMS: 400)
            let output = first.output
            var waited = 0
            while output.value.components(separatedBy: "create…").count < 3, waited < 10_000, first.isRunning {
                try await Task.sleep(for: .milliseconds(10))
                waited += 10
            }
            try await Task.sleep(for: .milliseconds(30 * iteration))
            guard first.isRunning else {
                // A loaded machine can be slower to show the output than the apply is to finish; counted below.
                await first.exitStatus()
                continue
            }
            await first.kill()
            if first.terminationReason == .exit {
                // It finished between the check above and the kill (the same race the guard covers): nothing interrupted.
                #expect(first.terminationStatus == 0)
                continue
            }
            #expect(first.terminationReason == .uncaughtSignal)

            let store = try #require(try SQLiteStateStore.openReadOnly(path: dir + "/state.db"))
            let inFlight = try await store.openJournals()
            try store.close()
            if !inFlight.isEmpty { interruptedRuns += 1 }

            let second = try Self.run(dir, settleMS: 0)
            await second.exitStatus()
            let secondOutput = second.output
            #expect(second.terminationStatus == 0, "iteration \(iteration): \(secondOutput.value)")

            let system = InMemoryBackend(file: dir + "/system.json")
            for name in names {
                let id = ResourceID(kind: .virtualMachine, name: name)
                #expect(
                    system.creates[id] == 1,
                    "iteration \(iteration): \(id) created \(system.creates[id] ?? 0) times"
                )
            }
            let after = try #require(try SQLiteStateStore.openReadOnly(path: dir + "/state.db"))
            #expect(try await after.ownedResources().count == names.count, "iteration \(iteration): every VM is owned")
            #expect(try await after.openJournals().isEmpty, "iteration \(iteration): no journal left open")
            let events = try await after.auditRecords(after: 0, limit: 10_000).map(\.entry.event)
            if !inFlight.isEmpty {
                #expect(events.contains(.interrupted) && events.contains(.resumed), "iteration \(iteration): \(events)")
            }
            #expect(AuditChain.verify(try await after.auditRecords(after: 0, limit: 10_000)) != nil)
        }
        // On a loaded 2-core machine some kills land before the first create or after the last (7/10 seen in a fresh-clone run).
        #expect(interruptedRuns >= 5, "the kill should land mid-action most of the time (\(interruptedRuns)/10)")
    }
}
