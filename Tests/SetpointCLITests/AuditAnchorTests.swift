import Foundation
import SetpointCLI
import SetpointCore
import SetpointState
import SetpointTesting
import Testing

/// The audit log's tail: an anchor kept apart from the state shows records cut off the end (which leave an intact,
/// shorter chain) and a state that was removed or replaced; appends check the chain first and refuse a tampered log,
/// and `audit acknowledge` records a break so that work can go on.
@Suite(.timeLimit(.minutes(3))) struct AuditAnchorTests {
    static func anchorPoint(_ path: String) throws -> [String: Any] {
        try #require(
            try JSONSerialization.jsonObject(with: try Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
        )
    }

    @Test func theAnchorShowsRecordsCutOffTheEndAndAStateThatIsGone() async throws {
        let env = try PlanApplyTests.Env()
        defer { env.cleanup() }
        try env.write()
        let anchor = env.dir + "/anchor.json"
        let (code, out, err) = await env.run(["apply", env.manifests, "--auto-approve", "--audit-anchor", anchor])
        #expect(code == 0, "\(out)\(err)")
        let records = try await SQLiteStateStore.openReadOnly(path: env.state)!.auditRecords(after: 0, limit: 100)
        #expect(
            try Self.anchorPoint(anchor)["seq"] as? Int == records.count,
            "every append moved the anchor to the head"
        )
        #expect(try Self.anchorPoint(anchor)["hash"] as? String == records.last?.hash)

        let (ok, okOut, _) = await env.run(["audit", "verify", "--audit-anchor", anchor])
        #expect(ok == 0 && okOut.contains("tail: matches the audit anchor \(anchor) (seq \(records.count)"), "\(okOut)")
        let (_, plainOut, _) = await env.run(["audit", "verify"])
        #expect(plainOut.contains("tail: cannot be checked: no audit anchor is configured"), "\(plainOut)")

        // Cut the last three records off: the chain alone is still intact.
        let store = try SQLiteStateStore.open(path: env.state)
        try await store.executeForTesting("DELETE FROM audit_log WHERE seq > \(records.count - 3)")
        try store.close()
        #expect(await env.run(["audit", "verify"]).0 == 0, "without an anchor the shorter chain looks intact")
        let (cut, _, cutErr) = await env.run(["audit", "verify", "--audit-anchor", anchor])
        #expect(
            cut == 3
                && cutErr.contains(
                    "3 records are missing from the end of the audit log: it ends at seq \(records.count - 3)"
                ),
            "\(cutErr)"
        )

        // An apply on that state refuses before it changes anything.
        try env.write(vms: ["api-1": "1Gi", "api-2": "1Gi", "api-3": "1Gi"])
        let (refused, refusedOut, refusedErr) = await env.run([
            "apply", env.manifests, "--auto-approve", "--audit-anchor", anchor,
        ])
        #expect(refused == 1)
        #expect(
            (refusedOut + refusedErr).contains(
                "refusing to append to the audit log of \(env.state): the audit anchor (\(anchor)) names record \(records.count)"
            ),
            "\(refusedOut)\(refusedErr)"
        )
        #expect(
            env.provider.backend.entry(ResourceID(kind: .virtualMachine, name: "api-3")) == nil,
            "nothing was created"
        )

        // The state removed, or emptied: the anchor says what it held.
        let copy = env.dir + "/state-copy.db"
        try FileManager.default.copyItem(atPath: env.state, toPath: copy)
        try FileManager.default.removeItem(atPath: env.state)
        let (gone, _, goneErr) = await env.run(["audit", "verify", "--audit-anchor", anchor])
        #expect(gone == 3 && goneErr.contains("no state at \(env.state), but the audit anchor \(anchor)"), "\(goneErr)")
        try FileManager.default.moveItem(atPath: copy, toPath: env.state)
        let emptied = try SQLiteStateStore.open(path: env.state)
        try await emptied.executeForTesting("DELETE FROM audit_log")
        try emptied.close()
        let (empty, _, emptyErr) = await env.run(["audit", "verify", "--audit-anchor", anchor])
        #expect(empty == 3 && emptyErr.contains("\(records.count) records are missing from the end"), "\(emptyErr)")

        // Acknowledged: recorded in the log, the anchor moved, and applies go on.
        let (ack, ackOut, ackErr) = await env.run([
            "audit", "acknowledge", "--reason", "restored from backup (INC-1)", "--as", "ops@example.net",
            "--audit-anchor", anchor,
        ])
        #expect(ack == 0 && ackOut.contains("the anchor now names seq 1"), "\(ackOut)\(ackErr)")
        #expect(await env.run(["audit", "verify", "--audit-anchor", anchor]).0 == 0)
        let (again, againOut, _) = await env.run(["apply", env.manifests, "--auto-approve", "--audit-anchor", anchor])
        #expect(again == 0, "\(againOut)")
    }

    @Test func anApplyRefusesAnEditedChainUntilTheBreakIsAcknowledged() async throws {
        let env = try PlanApplyTests.Env()
        defer { env.cleanup() }
        try env.write()
        #expect(await env.run(["apply", env.manifests, "--auto-approve"]).0 == 0)
        let store = try SQLiteStateStore.open(path: env.state)
        try await store.executeForTesting("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")
        try store.close()

        try env.write(vms: ["api-1": "1Gi", "api-2": "1Gi", "api-3": "1Gi"])
        let (refused, out, err) = await env.run(["apply", env.manifests, "--auto-approve"])
        #expect(refused == 1)
        #expect(
            (out + err).contains("refusing to append to the audit log of \(env.state): record 2 was edited"),
            "\(out)\(err)"
        )
        #expect((out + err).contains("setpoint audit acknowledge"), "the repair path is named")
        #expect(env.provider.backend.entry(ResourceID(kind: .virtualMachine, name: "api-3")) == nil)

        let (ack, ackOut, _) = await env.run([
            "audit", "acknowledge", "--reason", "a test edited it", "--as", "ops@example.net",
        ])
        #expect(ack == 0 && ackOut.contains("acknowledged: seq 2: record 2 was edited"), "\(ackOut)")
        let (verify, _, verifyErr) = await env.run(["audit", "verify"])
        #expect(verify == 0)
        #expect(
            verifyErr.contains(
                "warning: acknowledged break at seq 2: record 2 was edited: its content does not match its hash (recorded at seq"
            )
        )
        #expect(verifyErr.contains("by ops@example.net: a test edited it)"))
        #expect(await env.run(["apply", env.manifests, "--auto-approve"]).0 == 0)
        #expect(env.provider.backend.entry(ResourceID(kind: .virtualMachine, name: "api-3")) != nil)
        // Nothing else to acknowledge now.
        #expect(await env.run(["audit", "acknowledge", "--reason", "again"]).1.contains("nothing to acknowledge"))
    }

    @Test func aSignedAnchorEditedByHandDoesNotVerify() async throws {
        let env = try PlanApplyTests.Env()
        defer { env.cleanup() }
        try env.write()
        let anchor = env.dir + "/anchor.json"
        let key = env.dir + "/anchor.key"
        try "k3y-for-the-anchor\n".write(toFile: key, atomically: true, encoding: .utf8)
        #expect(
            await env.run([
                "apply", env.manifests, "--auto-approve", "--audit-anchor", anchor, "--anchor-key", "file:\(key)",
            ]).0 == 0
        )
        var point = try Self.anchorPoint(anchor)
        #expect((point["signature"] as? String)?.hasPrefix("hmac-sha256:") == true)
        #expect(await env.run(["audit", "verify", "--audit-anchor", anchor, "--anchor-key", "file:\(key)"]).0 == 0)
        // Moved back by hand to match a log someone shortened: the signature no longer fits.
        point["seq"] = 2
        try JSONSerialization.data(withJSONObject: point).write(to: URL(fileURLWithPath: anchor))
        let (code, _, err) = await env.run(["audit", "verify", "--audit-anchor", anchor, "--anchor-key", "file:\(key)"])
        #expect(
            code == 3 && err.contains("does not verify with the anchor key: it was edited (its signature differs)"),
            "\(err)"
        )
    }

    /// An acknowledgment covers the record as it is when it was made, and with the anchor's key it must be signed:
    /// someone who can write the state can neither forge one nor reuse one for a later edit.
    @Test func acknowledgmentsAreSignedAndCoverTheRecordAsItWas() async throws {
        let env = try PlanApplyTests.Env()
        defer { env.cleanup() }
        try env.write()
        let anchor = env.dir + "/anchor.json"
        let key = env.dir + "/anchor.key"
        try "k3y\n".write(toFile: key, atomically: true, encoding: .utf8)
        let keyed = ["--audit-anchor", anchor, "--anchor-key", "file:\(key)"]
        #expect(await env.run(["apply", env.manifests, "--auto-approve"] + keyed).0 == 0)
        let store = try SQLiteStateStore.open(path: env.state)
        try await store.executeForTesting("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")
        // A forged acknowledgment: chained correctly, but not signed with the key.
        let edited = try #require(try await store.auditRecords(after: 1, limit: 1).first)
        let forged = AuditChain.acknowledgment(of: edited, problem: "x", reason: "nothing to see", key: nil)
        _ = try await store.appendAudit(
            AuditEntry(time: "2026-12-07T00:00:00Z", actor: "mallory", event: .auditBreak, detail: forged),
            checkingChain: false
        )
        try store.close()
        let (refused, _, refusedErr) = await env.run(["audit", "verify"] + keyed)
        #expect(
            refused == 3 && refusedErr.contains("audit log broken at seq 2: record 2 was edited"),
            "the forged one does not count: \(refusedErr)"
        )
        #expect(
            await env.run(["audit", "verify"]).0 == 0,
            "without the key an unsigned acknowledgment is accepted (documented)"
        )

        let (ack, ackOut, _) = await env.run(["audit", "acknowledge", "--reason", "INC-7"] + keyed)
        #expect(ack == 0 && ackOut.contains("acknowledged: seq 2"), "\(ackOut)")
        #expect(await env.run(["audit", "verify"] + keyed).0 == 0)
        // The same record edited again: the acknowledgment was for what it said then.
        let again = try SQLiteStateStore.open(path: env.state)
        try await again.executeForTesting("UPDATE audit_log SET actor = 'eve' WHERE seq = 2")
        try again.close()
        let (reedited, _, reeditedErr) = await env.run(["audit", "verify"] + keyed)
        #expect(reedited == 3 && reeditedErr.contains("record 2 was edited"), "\(reeditedErr)")
    }
}
