import Foundation
import SetpointCLI
import SetpointCore
import SetpointState
import SetpointTesting
import Synchronization
import Testing

/// The audit trail of apply, `audit log`, `audit verify`, and the apply lease between two processes.
@Suite(.timeLimit(.minutes(5))) struct AuditCLITests {
    @Test func applyRecordsThePlanFirstThenIntentAndOutcomeOfEveryAction() async throws {
        let env = try PlanApplyTests.Env()
        defer { env.cleanup() }
        try env.write()
        let (code, out, _) = await env.run([
            "apply", env.manifests, "--auto-approve", "--approve", "all-risky", "--as", "alice@example.net",
        ])
        #expect(code == 0, "\(out)")
        let (logCode, json, _) = await env.run(["audit", "log", "--output", "json"])
        #expect(logCode == 0)
        let lines = json.split(separator: "\n").map {
            try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
        let events = lines.map { $0["event"] as! String }
        #expect(events.first == "plan", "the plan is recorded before anything changes: \(events)")
        #expect(events.filter { $0 == "intent" }.count == 3)
        #expect(events.filter { $0 == "outcome" }.count == 3)
        #expect(lines.map { $0["seq"] as! Int } == Array(1...lines.count))
        for (i, e) in events.enumerated() where e == "outcome" {
            let action = lines[i]["actionID"] as! String
            let intent = events.indices.first { events[$0] == "intent" && lines[$0]["actionID"] as! String == action }
            #expect(intent != nil && intent! < i, "intent before outcome for \(action)")
        }
        #expect(lines.allSatisfy { ($0["actor"] as? String) == "alice@example.net" })
        #expect(!json.contains("\"t\""), "no secret values in the audit log")
        let (verify, verifyOut, _) = await env.run(["audit", "verify"])
        #expect(verify == 0)
        #expect(verifyOut.contains("audit log intact: \(lines.count) records"))
        #expect(verifyOut.contains("head: seq \(lines.count) sha256:"))
    }

    @Test func approvalsAreRecordedWithTheApprover() async throws {
        let env = try PlanApplyTests.Env()
        defer { env.cleanup() }
        try env.write()
        _ = await env.run(["apply", env.manifests, "--auto-approve"])
        try env.write(vms: ["api-1": "2Gi", "api-2": "1Gi"])
        _ = await env.run([
            "apply", env.manifests, "--auto-approve", "--approve", "VirtualMachine/api-1", "--as", "bob@example.net",
        ])
        let (_, text, _) = await env.run(["audit", "log"])
        #expect(text.contains("bob@example.net  approval  plan "))
        #expect(text.contains("approved: VirtualMachine/api-1:restart"))
    }

    @Test func verifyNamesATamperedRecordAndExitsThree() async throws {
        let env = try PlanApplyTests.Env()
        defer { env.cleanup() }
        try env.write()
        _ = await env.run(["apply", env.manifests, "--auto-approve"])
        let store = try SQLiteStateStore.open(path: env.state)
        try await store.executeForTesting("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")
        try await store.executeForTesting("UPDATE audit_log SET detail = 'not json' WHERE seq = 3")
        try store.close()
        let (code, _, err) = await env.run(["audit", "verify"])
        #expect(code == 3)
        #expect(err.contains("audit log broken at seq 2: record 2 was edited"))
        let fixed = try SQLiteStateStore.open(path: env.state)
        try await fixed.executeForTesting(
            "UPDATE audit_log SET actor = (SELECT actor FROM audit_log WHERE seq = 1) WHERE seq = 2"
        )
        try fixed.close()
        let (unreadable, _, unreadableErr) = await env.run(["audit", "verify"])
        #expect(unreadable == 3, "unreadable detail is tampering too: \(unreadableErr)")
        #expect(unreadableErr.contains("record 3 was edited"))
    }

    /// Two processes, one state store: the second apply fails naming the holder, or waits with --lock-timeout.
    @Test func aSecondApplyWaitsForTheLeaseOrNamesItsHolder() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("setpoint-lease-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var text =
            "apiVersion: setpoint/v1\nkind: ProxmoxCluster\nmetadata: {name: pve}\n"
            + "spec: {endpoints: [\"https://pve1:8006\"], tokenId: \"setpoint@pve!ci\", tokenSecret: {env: PVE_TOKEN}}\n"
        for i in 1...2 {
            text +=
                "---\napiVersion: setpoint/v1\nkind: VirtualMachine\nmetadata: {name: vm-\(i)}\nspec: {cluster: pve, cores: 1}\n"
        }
        try text.write(toFile: dir + "/stack.yaml", atomically: true, encoding: .utf8)
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
            "setpoint-testing"
        ).path
        func start(_ args: [String]) throws -> (ChildProcess, ProcessOutput) {
            // A latency long enough for a loaded CI machine.
            let p = try ChildProcess.start(
                [
                    binary, "apply", dir + "/stack.yaml", "--auto-approve", "--parallelism", "1", "--state",
                    dir + "/state.db",
                ] + args,
                environment: ["SETPOINT_TEST_LATENCY_MS": "8000", "PVE_TOKEN": "t", "PATH": "/usr/bin:/bin"]
            )
            return (p, p.output)
        }
        let (first, firstOut) = try start([])
        var waited = 0
        while !firstOut.value.contains("create…"), waited < 10_000 {
            try await Task.sleep(for: .milliseconds(20))
            waited += 20
        }
        try #require(first.isRunning, "the first apply finished too early: \(firstOut.value)")
        let (second, secondOut) = try start(["--lock-timeout", "0s"])
        await second.exitStatus()
        #expect(second.terminationStatus == 1)
        let refused = secondOut.value
        #expect(
            refused.contains("another apply holds the state lease: pid \(first.processIdentifier) on "),
            "\(refused)"
        )
        let (third, thirdOut) = try start(["--lock-timeout", "60s"])
        await first.exitStatus()
        await third.exitStatus()
        #expect(first.terminationStatus == 0, "\(firstOut.value)")
        #expect(third.terminationStatus == 0, "the waiting apply ran after the first: \(thirdOut.value)")
        #expect(thirdOut.value.contains("No changes") || thirdOut.value.contains("Apply complete"))
    }
}
