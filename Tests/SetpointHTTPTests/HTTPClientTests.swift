import Foundation
import SetpointHTTP
import SetpointTesting
import Testing

/// SetpointHTTP against real HTTP and HTTPS servers on loopback (Python's http.server, certificates from openssl).
@Suite(.timeLimit(.minutes(2)), .serialized) struct HTTPClientTests {
    /// A server process for one test; stopped by PID (SIGKILL: nothing to flush).
    final class Server: Sendable {
        let process: ChildProcess
        let port: Int

        init(cert: String? = nil, key: String? = nil) async throws {
            let script = RepoPaths.path("Tests/SetpointHTTPTests/Fixtures/echo_server.py")
            process = try ChildProcess.start(["python3", script] + [cert, key].compactMap { $0 })
            // The server prints its port on its first line.
            _ = await process.stdout.waitFor("\n", seconds: 20)
            guard let port = Int(process.stdout.value.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                await process.kill()
                throw HTTPError(
                    code: -1,
                    message: "echo server did not start: \(process.output.value)",
                    url: "",
                    isTransient: false
                )
            }
            self.port = port
        }

        func stop() { process.signal(SIGKILL) }
    }

    /// A CA and a server certificate for 127.0.0.1 it signed, plus the server key's pin.
    struct Certificates {
        let dir: String
        var ca: String { dir + "/ca.pem" }
        var cert: String { dir + "/server.pem" }
        var key: String { dir + "/server.key" }
        let pin: String

        init() async throws {
            dir =
                FileManager.default.temporaryDirectory.appendingPathComponent("setpoint-tls-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try "subjectAltName=IP:127.0.0.1\n".write(toFile: dir + "/san.ext", atomically: true, encoding: .utf8)
            let steps: [[String]] = [
                [
                    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir + "/ca.key", "-out",
                    dir + "/ca.pem", "-days", "2", "-subj", "/CN=setpoint-test-ca",
                ],
                [
                    "req", "-newkey", "rsa:2048", "-nodes", "-keyout", dir + "/server.key", "-out", dir + "/server.csr",
                    "-subj", "/CN=127.0.0.1",
                ],
                [
                    "x509", "-req", "-in", dir + "/server.csr", "-CA", dir + "/ca.pem", "-CAkey", dir + "/ca.key",
                    "-CAcreateserial",
                    "-out", dir + "/server.pem", "-days", "2", "-extfile", dir + "/san.ext",
                ],
                ["x509", "-in", dir + "/server.pem", "-pubkey", "-noout", "-out", dir + "/server.pub"],
                ["pkey", "-pubin", "-in", dir + "/server.pub", "-outform", "der", "-out", dir + "/server.der"],
            ]
            for args in steps {
                let r = try #require(await ExternalTool.run("openssl", args))
                try #require(r.status == 0, "openssl \(args.first!): \(r.stderr)")
            }
            let hash = try #require(
                await ExternalTool.run(
                    "sh",
                    ["-c", "openssl dgst -sha256 -binary '\(dir)/server.der' | openssl enc -base64"]
                )
            )
            pin = "sha256//" + hash.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    static func toolsPresent() async -> Bool {
        let openssl = await ExternalTool.run("openssl", ["version"])?.status == 0
        return await ExternalTool.pythonHas(["ssl", "http.server"]) && openssl
    }

    @Test(.enabled("needs python3 and openssl") { await toolsPresent() || ExternalTool.isCI })
    func requestsAndResponsesOverPlainHTTPReusingConnections() async throws {
        let server = try await Server()
        defer { server.stop() }
        let client = HTTPClient(connections: 1)
        defer { client.shutdown() }
        let base = "http://127.0.0.1:\(server.port)"
        let get = try await client.send(
            HTTPRequest(url: base + "/api2/json/version", headers: [("Authorization", "PVEAPIToken=a@pve!t=s")])
        )
        #expect(get.status == 200)
        #expect(get.headers["content-type"] == "application/json")
        let echoed = try JSONSerialization.jsonObject(with: get.body) as! [String: Any]
        #expect(echoed["method"] as? String == "GET")
        #expect(echoed["auth"] as? String == "PVEAPIToken=a@pve!t=s")
        let post = try await client.send(
            HTTPRequest(method: "POST", url: base + "/nodes/pve1/qemu", body: Data("vmid=101".utf8))
        )
        let posted = try JSONSerialization.jsonObject(with: post.body) as! [String: Any]
        #expect(posted["body"] as? String == "vmid=101")
        #expect(posted["port"] as? Int == echoed["port"] as? Int, "the connection was kept alive and reused")
        let failed = try await client.send(HTTPRequest(url: base + "/status/500"))
        #expect(failed.status == 500)
        #expect(failed.reason == "VM 101 is locked (clone)", "PVE's message is in the status line")
    }

    @Test(.enabled("needs python3 and openssl") { await toolsPresent() || ExternalTool.isCI })
    func transportFailuresAreErrorsAndTimeoutsHold() async throws {
        let client = HTTPClient()
        defer { client.shutdown() }
        await #expect(throws: HTTPError.self) { try await client.send(HTTPRequest(url: "http://127.0.0.1:1/")) }
        let server = try await Server()
        defer { server.stop() }
        do {
            _ = try await client.send(
                HTTPRequest(url: "http://127.0.0.1:\(server.port)/slow", timeout: .milliseconds(300))
            )
            Issue.record("a 3 s answer must time out at 300 ms")
        } catch let error as HTTPError {
            #expect(error.isTransient)
            #expect(error.message.lowercased().contains("timed out") || error.message.lowercased().contains("timeout"))
        }
    }

    @Test(.enabled("needs python3 and openssl") { await toolsPresent() || ExternalTool.isCI })
    func tlsIsVerifiedByCAFileOrPinnedKeyOrExplicitlyNot() async throws {
        let certs = try await Certificates()
        defer { try? FileManager.default.removeItem(atPath: certs.dir) }
        let server = try await Server(cert: certs.cert, key: certs.key)
        defer { server.stop() }
        let url = "https://127.0.0.1:\(server.port)/version"
        // Default: the system CAs do not know the test CA.
        await #expect(throws: HTTPError.self) { try await HTTPClient().send(HTTPRequest(url: url)) }
        // The right CA file.
        #expect(try await HTTPClient(tls: TLSOptions(caFile: certs.ca)).send(HTTPRequest(url: url)).status == 200)
        // A wrong CA file.
        let other = try await Certificates()
        defer { try? FileManager.default.removeItem(atPath: other.dir) }
        await #expect(throws: HTTPError.self) {
            try await HTTPClient(tls: TLSOptions(caFile: other.ca)).send(HTTPRequest(url: url))
        }
        // The right pinned key (with the CA), and a wrong one.
        #expect(
            try await HTTPClient(tls: TLSOptions(caFile: certs.ca, pinnedPublicKey: certs.pin)).send(
                HTTPRequest(url: url)
            ).status == 200
        )
        do {
            _ = try await HTTPClient(tls: TLSOptions(caFile: certs.ca, pinnedPublicKey: other.pin)).send(
                HTTPRequest(url: url)
            )
            Issue.record("a wrong pinned key must be refused")
        } catch let error as HTTPError {
            #expect(!error.isTransient)
            #expect(
                error.message.lowercased().contains("pinned") || error.message.lowercased().contains("public key"),
                "\(error.message)"
            )
        }
        // Explicitly insecure.
        #expect(try await HTTPClient(tls: TLSOptions(insecure: true)).send(HTTPRequest(url: url)).status == 200)
    }
}
