import Foundation
import PVESim
import SetpointController
import SetpointHTTP
import SetpointTesting
import Testing

/// The controller's API over TLS: served with a certificate and key from files, rotated by SIGHUP without a restart
/// (new connections get the new pair; a pair that cannot be used leaves the old one serving), and plain HTTP only on
/// loopback unless asked for.
@Suite(.timeLimit(.minutes(3))) struct ControllerTLSTests {
    struct Pair {
        var certificate: String
        var key: String
        /// The CA that signed it (what a client trusts).
        var ca: String
        /// `sha256//BASE64` of the server key (what Chromium is told to trust).
        var pin: String
    }

    /// A certificate for localhost and 127.0.0.1 from a CA of its own, written to DIR/TAG.crt and DIR/TAG.key (0600),
    /// its CA to DIR/TAG-ca-N.pem.
    static func writePair(in dir: String, tag: String) throws -> Pair {
        let made = try SelfSignedCA.make(names: ["localhost"])
        let ca = dir + "/\(tag)-ca-\(UUID().uuidString.prefix(8)).pem"
        let pair = Pair(certificate: dir + "/\(tag).crt", key: dir + "/\(tag).key", ca: ca, pin: made.publicKeyPin)
        try made.certificatePEM.write(toFile: pair.certificate, atomically: true, encoding: .utf8)
        try made.privateKeyPEM.write(toFile: pair.key, atomically: true, encoding: .utf8)
        chmod(pair.key, 0o600)
        try made.caPEM.write(toFile: ca, atomically: true, encoding: .utf8)
        return pair
    }

    /// `GET /healthz` on a new connection trusting `ca`: its status, or the client's error.
    static func healthz(_ url: String, ca: String?) async -> Result<Int, any Error> {
        let client = HTTPClient(tls: TLSOptions(caFile: ca), connections: 1)
        defer { client.shutdown() }
        do {
            return .success(try await client.send(HTTPRequest(url: url + "/healthz", timeout: .seconds(10))).status)
        } catch {
            return .failure(error)
        }
    }

    @Test func theAPIServesTLSAndSIGHUPRotatesItsCertificateWithoutARestart() async throws {
        let env = try await SimEnv()
        defer { Task { await env.stop() } }
        try env.write([ControllerTests.vm(cores: 2)])
        let first = try Self.writePair(in: env.dir, tag: "api")
        let (process, output) = try ControllerAPITests.launch([
            env.manifests, "--interval", "300ms", "--listen", "127.0.0.1:0", "--state", env.state,
            "--tls-certificate", first.certificate, "--tls-key", first.key,
        ])
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        try await output.wait(for: "API on https://127.0.0.1:")
        #expect(output.value.contains("TLS certificate \(first.certificate): CN=localhost"), "\(output.value)")
        let port = try #require(
            output.value.range(of: "API on https://127.0.0.1:").map {
                output.value[$0.upperBound...].prefix { $0.isNumber }
            }
        )
        let url = "https://127.0.0.1:\(port)"

        #expect(try await Self.healthz(url, ca: first.ca).get() == 200)
        // The system's CAs do not know this one; and plain HTTP on the TLS port is no answer.
        await #expect(throws: (any Error).self) { try await Self.healthz(url, ca: nil).get() }
        await #expect(throws: (any Error).self) { try await Self.healthz("http://127.0.0.1:\(port)", ca: nil).get() }

        // Rotation: a new pair from another CA is written; until SIGHUP the old one still serves.
        let second = try Self.writePair(in: env.dir, tag: "api")
        #expect(try await Self.healthz(url, ca: first.ca).get() == 200)
        kill(process.processIdentifier, SIGHUP)
        try await output.wait(for: "TLS certificate \(first.certificate) read again")
        #expect(try await Self.healthz(url, ca: second.ca).get() == 200, "the new pair serves")
        await #expect(throws: (any Error).self, "the old CA no longer verifies it") {
            try await Self.healthz(url, ca: first.ca).get()
        }

        // A key of another certificate: refused with the files named, and the pair in use goes on serving.
        try SelfSignedCA.make().privateKeyPEM.write(toFile: second.key, atomically: true, encoding: .utf8)
        kill(process.processIdentifier, SIGHUP)
        try await output.wait(for: "error: TLS pair not read again, the one in use stays")
        #expect(
            output.value.contains(
                "the TLS key file \(second.key) does not belong to the certificate in \(second.certificate)"
            ),
            "\(output.value)"
        )
        #expect(try await Self.healthz(url, ca: second.ca).get() == 200)

        // The CLI reaches it with --controller-ca (401: no token, but the TLS session was made); without it, not.
        let trusted = await env.run(
            ["plans", "list", "--controller", url, "--controller-ca", second.ca],
            withState: false
        )
        #expect(trusted.err.contains("HTTP 401"), "\(trusted.err)")
        let untrusted = await env.run(["plans", "list", "--controller", url], withState: false)
        #expect(untrusted.code != 0 && !untrusted.err.contains("HTTP 401"), "\(untrusted.err)")

        // Its expiry is exported, to alert on before clients refuse it.
        let metrics = try await HTTPClient(tls: TLSOptions(caFile: second.ca), connections: 1).send(
            HTTPRequest(url: url + "/metrics")
        )
        let expiry = String(decoding: metrics.body, as: UTF8.self).split(separator: "\n").first {
            $0.hasPrefix("setpoint_tls_certificate_expiry_timestamp_seconds ")
        }
        let seconds = try #require(expiry.flatMap { Double($0.split(separator: " ").last ?? "") })
        #expect(seconds > Date().timeIntervalSince1970 + 365 * 86_400, "the pair expires in two years: \(seconds)")

        kill(process.processIdentifier, SIGTERM)
        #expect(await process.exitStatus(within: .seconds(30)) == 0, "\(output.value.suffix(2000))")
    }

    @Test func plainHTTPOnlyOnLoopbackUnlessAskedForAndUnusablePairsAreRefusedAtStart() async throws {
        let env = try await SimEnv()
        defer { Task { await env.stop() } }
        try env.write([ControllerTests.vm(cores: 2)])
        let open = await env.run(["controller", env.manifests, "--listen", "0.0.0.0:0"])
        #expect(open.code != 0)
        #expect(open.err.contains("--listen 0.0.0.0:0 is not a loopback address"), "\(open.err)")
        #expect(open.err.contains("--insecure-http"), "\(open.err)")

        let half = await env.run(["controller", env.manifests, "--tls-certificate", env.dir + "/api.crt"])
        #expect(half.err.contains("--tls-certificate and --tls-key go together"), "\(half.err)")

        let missing = await env.run([
            "controller", env.manifests, "--listen", "127.0.0.1:0", "--tls-certificate", env.dir + "/none.crt",
            "--tls-key", env.dir + "/none.key",
        ])
        #expect(missing.code == 1)
        #expect(missing.err.contains("the TLS certificate file \(env.dir)/none.crt cannot be read"), "\(missing.err)")

        // The loader on its own: a certificate file that holds a key, and a key that is not a key.
        let pair = try Self.writePair(in: env.dir, tag: "api")
        #expect {
            try TLSCertificateFiles(certificate: pair.key, key: pair.key)
        } throws: { "\($0)".contains("the TLS certificate file \(pair.key) holds no PEM certificate") }
        #expect {
            try TLSCertificateFiles(certificate: pair.certificate, key: pair.certificate)
        } throws: { "\($0)".contains("the TLS key file \(pair.certificate) holds no PEM private key") }
        let files = try TLSCertificateFiles(certificate: pair.certificate, key: pair.key)
        #expect(files.summary.hasPrefix("CN=localhost, valid until "), "\(files.summary)")
    }
}
