import Foundation
import SetpointExec
import SetpointTesting
import Testing

/// The ssh configuration Setpoint writes, as the OpenSSH client reads it (`ssh -G`: the effective options for a host).
@Suite(.timeLimit(.minutes(1))) struct SSHClientConfigTests {
    /// `ssh -G -F FILE ALIAS` as option → values (lower-case keys, as ssh prints them).
    static func effective(_ config: SSHClientConfig, _ alias: String) async throws -> [String: [String]] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("setpoint-ssh-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try config.text.write(toFile: dir + "/config", atomically: true, encoding: .utf8)
        let r = try #require(
            await ExternalTool.run("ssh", ["-G", "-F", dir + "/config", alias]),
            "ssh (openssh-client) is missing: scripts/test installs it"
        )
        #expect(r.status == 0, "\(r.stderr)")
        var out: [String: [String]] = [:]
        for line in r.stdout.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            if parts.count == 2 { out[parts[0], default: []].append(parts[1]) }
        }
        return out
    }

    static let config = SSHClientConfig(hosts: [
        .init(
            alias: "pg-1",
            address: "10.0.0.11",
            port: 2222,
            user: "setpoint",
            identityFile: "/etc/setpoint/keys/ops key",
            knownHostsFile: "/run/setpoint/ssh/pg-1.known_hosts",
            connectTimeout: .seconds(7),
            jump: "bastion",
            controlPath: "/run/setpoint/ssh/m/pg-1-abc"
        ),
        .init(
            alias: "bastion",
            address: "203.0.113.5",
            user: "jump",
            identityFile: nil,
            agentSocket: "/run/user/0/agent.sock",
            knownHostsFile: "/run/setpoint/ssh/bastion.known_hosts",
            controlPath: "/run/setpoint/ssh/m/bastion-def"
        ),
    ])

    @Test func aHostReadsAsWritten() async throws {
        let o = try await Self.effective(Self.config, "pg-1")
        #expect(o["hostname"] == ["10.0.0.11"])
        #expect(o["port"] == ["2222"])
        #expect(o["user"] == ["setpoint"])
        #expect(o["batchmode"] == ["yes"])
        #expect(o["stricthostkeychecking"] == ["true"])
        #expect(o["userknownhostsfile"] == ["/run/setpoint/ssh/pg-1.known_hosts"])
        #expect(o["globalknownhostsfile"] == ["/dev/null"])
        #expect(o["forwardagent"] == ["no"])
        #expect(o["forwardx11"] == ["no"])
        #expect(
            o["identityfile"] == ["\"/etc/setpoint/keys/ops key\""]
                || o["identityfile"] == ["/etc/setpoint/keys/ops key"]
        )
        #expect(o["identitiesonly"] == ["yes"])
        #expect(o["connecttimeout"] == ["7"])
        #expect(o["serveraliveinterval"] == ["15"])
        #expect(o["controlmaster"] == ["auto"])
        #expect(o["controlpath"] == ["/run/setpoint/ssh/m/pg-1-abc"])
        #expect(o["proxyjump"] == ["bastion"])
        #expect(o["passwordauthentication"] == ["no"])
    }

    @Test func anAgentHostReadsNoKeyFileOfItsOwn() async throws {
        let o = try await Self.effective(Self.config, "bastion")
        #expect(o["identityagent"] == ["/run/user/0/agent.sock"])
        #expect(o["identityfile"] == ["/dev/null"], "no default ~/.ssh/id_* key is tried")
        #expect(o["port"] == ["22"])
        #expect(o["proxyjump"] == nil)
    }
}
