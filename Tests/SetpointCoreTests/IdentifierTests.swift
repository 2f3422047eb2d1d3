import Foundation
import SetpointCore
import Testing

/// Action ids and audit event kinds: typed values whose text (in plans, journals, the audit log and its hashes) is
/// exactly what earlier versions wrote.
@Suite(.timeLimit(.minutes(1))) struct IdentifierTests {
    @Test(arguments: ["VirtualMachine/api-1:update", "BackupPolicy/main-db:restart", "AlertRuleGroup/a:b:resize"])
    func anActionIDReadsBackToTheSameText(text: String) throws {
        let id = try #require(ActionID(parsing: text))
        #expect(id.description == text)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        let data = try encoder.encode([id])
        #expect(String(decoding: data, as: UTF8.self) == "[\"\(text)\"]", "a plain string in JSON")
        #expect(try JSONDecoder().decode([ActionID].self, from: data) == [id])
    }

    @Test func theVerbIsAfterTheLastColonAndTheResourceIsAResourceID() throws {
        let id = try #require(ActionID(parsing: "AlertRuleGroup/a:b:resize"))
        #expect(id.resource == ResourceID(kind: ResourceKind("AlertRuleGroup"), name: "a:b") && id.verb == .resize)
        let made = ActionID(ResourceID(kind: .virtualMachine, name: "web"), .update)
        #expect(made.description == "VirtualMachine/web:update")
    }

    @Test(arguments: ["", "VirtualMachine/api-1", "VirtualMachine/api-1:", ":update", "api-1:update", "a/b/c:update"])
    func textThatIsNotAnActionIDIsRefused(text: String) {
        #expect(ActionID(parsing: text) == nil)
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode([ActionID].self, from: Data("[\"\(text)\"]".utf8))
        }
    }

    /// The stored names, and so the hashes of records already in logs, are what they were before the enum.
    @Test func auditEventNamesAndRecordHashesAreUnchanged() {
        let expected: [(AuditEvent, String, String)] = [
            (.plan, "plan", "3557c7dc5f5a021ce1bff2f46574bc266c0d1ef4622720913ee6b88616636793"),
            (.intent, "intent", "9fd8ff66607efad64a2d32af25e24de644ac9c89beaef152a1dc9e96ec2d1741"),
            (.outcome, "outcome", "805d535b428b331bbe0796268c4e921c66bf64530889ea842d3b283254d2ef39"),
            (.approval, "approval", "9f79aae617c0229d1121877cfbcf3e2ae16e26c21ae2e06c02058a7222d39039"),
            (.rejection, "rejection", "4bbb762a23a46a6d385a41d601e909a1ef1f67a49d20699cc83e0a1f67ffa588"),
            (.interrupted, "interrupted", "6a6610f017009c32df3b0cdc01965fe7213cb4eb71eed07d0b41b61fb5e614b7"),
            (.resumed, "resumed", "c6efb685999160f6569efa8e91ea2bbe556d3d8f672096a9448850ed388340b4"),
            (.auditBreak, "audit-break", "98f6570ce47b20a33dfda43f7f0408a59230f146ee301b716c7cef8874128b22"),
            (.pending, "pending", "53d3831beba6db50773046f37e9ff88bd74711fcdf8ed886c82883e0d129c870"),
            (.import, "import", "0ee3bdda1dfe9e7f0bc54d93010ddb52151416bd5ec5d86ee1ae54f8fbb9654b"),
            (.restore, "restore", "6e3403117f9292818b5821713aa0f178bf5684812349eeaa69464e54c5a3bf1f"),
            (.failover, "failover", "92396e1b280aeb04a6e9b8c4091b2d0fe2022aa8357fd9ee503208191c1514a7"),
            (.reinit, "reinit", "71a6cd01b440e8bed7aa95bd26d42959a40e0c0894bc222a4b617155fb4bd472"),
            (.backup, "backup", "29eb9f340825967329d49fbe3063a56be55358bf158520d57035cee390153ce5"),
            (.backupDrill, "backup-drill", "6d5dde5c363ab0b299b9632182ca10a74eb48814c1c236a46e9be5dce24bf5e8"),
            (.hostKeyTrusted, "host-key-trusted", "d3be35607c8dbfb00a5d8d2be1169a7345bec7ec7cb69375e0cab61ee3d297b0"),
            (.applyRequested, "apply-requested", "9400857b097ab94922e7bc940a09d0ef3186671501abe2fa6c289a1908a5fb82"),
        ]
        #expect(expected.map(\.0) == AuditEvent.known, "every kind Setpoint writes, in this list")
        for (event, name, hash) in expected {
            #expect(event.rawValue == name && AuditEvent(rawValue: name) == event)
            let entry = AuditEntry(
                time: "2026-12-07T10:00:00.000Z",
                actor: "ops@example.net",
                event: event,
                planID: "p-1",
                actionID: ActionID(parsing: "VirtualMachine/api-1:update"),
                resource: ResourceID(kind: .virtualMachine, name: "api-1"),
                result: "succeeded",
                detail: .map(["n": .int(1)])
            )
            // The hash computed independently (Python's json.dumps with sorted keys over the same fields).
            #expect(AuditRecord.hash(seq: 7, entry: entry, previousHash: "sha256:prev") == "sha256:" + hash, "\(name)")
        }
    }

    @Test func anUnknownStoredNameIsKeptSoTheChainCheckHashesWhatWasStored() throws {
        let event = AuditEvent(rawValue: "snapshot")
        #expect(event == .unrecognized("snapshot") && event.rawValue == "snapshot")
        let decoded = try JSONDecoder().decode([AuditEvent].self, from: Data("[\"snapshot\",\"audit-break\"]".utf8))
        #expect(decoded == [.unrecognized("snapshot"), .auditBreak])
    }
}
