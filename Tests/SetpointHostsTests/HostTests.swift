import Foundation
import SetpointCore
import SetpointExec
import SetpointManifest
import SetpointTesting
import Testing

@testable import SetpointHosts

/// `Host`: what a manifest may say of one, and observing it over SSH against the sshd scripts/test starts.
@Suite(.timeLimit(.minutes(2))) struct HostTests {
    static let pin = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBAPG0qway0Dnc0IkfmtZoHINC/n+3uO9rLiJx0Nz7Nb"

    /// Loads one manifest text; the error diagnostics' summaries.
    static func errors(_ yaml: String) throws -> [String] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("setpoint-host-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try yaml.write(toFile: dir + "/hosts.yaml", atomically: true, encoding: .utf8)
        return ManifestLoader().load(paths: [dir]).diagnostics.filter { $0.severity == .error }.map(\.summary)
    }

    static func host(_ name: String, _ ssh: String, address: String = "10.0.0.11") -> String {
        """
        apiVersion: setpoint/v1
        kind: Host
        metadata: {name: \(name)}
        spec:
          address: \(address)
          ssh: \(ssh)

        """
    }

    @Test func aHostWithPinsAndAKeyLoads() throws {
        let yaml = Self.host(
            "pg-1",
            "{user: setpoint, privateKey: {file: /etc/setpoint/keys/ops}, hostKeys: [\"\(Self.pin)\", \"@cert-authority \(Self.pin)\"]}"
        )
        #expect(try Self.errors(yaml) == [])
    }

    @Test(arguments: [
        ("{user: s, privateKey: {env: K}, hostKeys: [\"ssh-ed25519 AAAAnotakey\"]}", "public key as in known_hosts"),
        (
            "{user: s, privateKey: {env: K}, hostKeys: [\"ssh-rsa \(String(HostTests.pin.dropFirst(12)))\"]}",
            "public key as in known_hosts"
        ),
        ("{user: s, privateKey: {env: K}, hostKeys: []}", "hostKeys"),
        ("{user: s, hostKeys: [\"\(HostTests.pin)\"]}", "privateKey"),
        ("{user: s, privateKey: {env: K}, agentSocket: /run/a.sock, hostKeys: [\"\(HostTests.pin)\"]}", "privateKey"),
        ("{user: s, privateKey: {env: K}, hostKeys: [\"\(HostTests.pin)\"], jump: nowhere}", "Host/nowhere"),
    ])
    func refusedWithTheFieldNamed(ssh: String, expected: String) throws {
        let errors = try Self.errors(Self.host("pg-1", ssh))
        #expect(errors.contains { $0.contains(expected) }, "\(errors)")
    }

    @Test func aJumpCycleIsRefused() throws {
        let a = Self.host("a", "{user: s, privateKey: {env: K}, hostKeys: [\"\(Self.pin)\"], jump: b}")
        let b = Self.host("b", "{user: s, privateKey: {env: K}, hostKeys: [\"\(Self.pin)\"], jump: a}")
        let errors = try Self.errors(a + "---\n" + b)
        #expect(errors.contains { $0.contains("cycle") }, "\(errors)")
    }

    // MARK: - observing

    struct FileSecrets: SecretResolver {
        func resolve(_ reference: SecretReference) throws -> String {
            guard case .file(let path) = reference else { throw CocoaError(.fileNoSuchFile) }
            return try String(contentsOfFile: path, encoding: .utf8)
        }
    }

    static func observe(pin: String?, port: Int? = nil) async throws -> Observation {
        let env = ProcessInfo.processInfo.environment
        let sshPort = try #require(env["SETPOINT_TEST_SSH_PORT"].flatMap(Int.init), "run through scripts/test")
        let spec: [String: Value] = [
            "address": .string("127.0.0.1"),
            "ssh": .m([
                "user": .string(try #require(env["SETPOINT_TEST_SSH_USER"])),
                "port": .int(Int64(port ?? sshPort)),
                "privateKey": .secret(.file(try #require(env["SETPOINT_TEST_SSH_KEY"]))),
                "hostKeys": .list([.string(try pin ?? #require(env["SETPOINT_TEST_SSH_HOST_KEY"]))]),
                "connectTimeout": .int(3000),
            ]),
        ]
        let host = Resource.fixture(.host, "test-host", spec: spec)
        let context = ProviderContext(secrets: FileSecrets(), declared: [host.id: host])
        let found = try await HostProvider().observe([ResolvedResource(resource: host)], in: context)
        return try #require(found[host.id])
    }

    static let sshEnabled = ProcessInfo.processInfo.environment["SETPOINT_TEST_SSH_PORT"] != nil || ExternalTool.isCI

    @Test(.enabled(if: sshEnabled, "needs the sshd scripts/test starts"))
    func aHostThatAnswersWithItsPinnedKeyIsPresent() async throws {
        guard case .present(let observed) = try await Self.observe(pin: nil) else {
            Issue.record("the test sshd must be reached")
            return
        }
        #expect(observed.providerID?.hasPrefix("test-host (127.0.0.1:") == true)
    }

    @Test(.enabled(if: sshEnabled, "needs the sshd scripts/test starts"))
    func aKeyThatIsNotPinnedIsRefusedWithBothFingerprints() async throws {
        guard case .failed(let why) = try await Self.observe(pin: Self.pin) else {
            Issue.record("a host whose key is not pinned must not be present")
            return
        }
        #expect(why.contains("Host/test-host (127.0.0.1:"), "\(why)")
        #expect(why.contains("offered a host key that is not pinned"), "\(why)")
        #expect(why.components(separatedBy: "SHA256:").count >= 3, "the offered and the pinned fingerprints: \(why)")
    }

    @Test(.enabled(if: sshEnabled, "needs the sshd scripts/test starts"))
    func anUnreachableHostIsAnObservationErrorNamingIt() async throws {
        // A port nothing listens on.
        guard case .failed(let why) = try await Self.observe(pin: nil, port: 1) else {
            Issue.record("a host nobody answers for must not be present")
            return
        }
        #expect(why.contains("Host/test-host (127.0.0.1:1) was not reached over SSH"), "\(why)")
        #expect(why.contains("Connection refused"), "\(why)")
    }
}
