import Foundation
import PVESim
import SetpointHTTP
import Testing

/// Where the API token may travel, and what is printed about it.
@Suite(.timeLimit(.minutes(2))) struct CredentialTransportTests {
    static let guest =
        "apiVersion: setpoint/v1\nkind: VirtualMachine\nmetadata: {name: t1}\nspec: {cluster: pve, memory: 1Gi}\n"

    /// An http:// endpoint would send the token in clear text: refused at validate time unless the cluster opts in,
    /// and `doctor` then says so instead of "verified against the system CAs".
    @Test func plainHTTPIsRefusedUnlessAllowedAndDoctorSaysWhatHappens() async throws {
        let env = try await SimEnv()
        defer { Task { await env.stop() } }
        let plain = env.clusterYAML().replacingOccurrences(
            of: "endpoints: [\"\(env.endpoint)\"]",
            with: "endpoints: [\"http://127.0.0.1:1\"]"
        )
        try (plain + "---\n" + Self.guest).write(
            toFile: env.manifests + "/stack.yaml",
            atomically: true,
            encoding: .utf8
        )
        let refused = await env.run(["validate", env.manifests], withState: false)
        #expect(refused.code == 1)
        #expect(
            refused.err.contains(
                "error[SP1023]: spec.endpoints[0] is plain HTTP: every request would send the API token unencrypted"
            ),
            "\(refused.err)"
        )

        let allowed = plain.replacingOccurrences(of: "  tokenId:", with: "  allowPlainHTTP: true\n  tokenId:")
        try (allowed + "---\n" + Self.guest).write(
            toFile: env.manifests + "/stack.yaml",
            atomically: true,
            encoding: .utf8
        )
        #expect(await env.run(["validate", env.manifests], withState: false).code == 0)
        let doctor = await env.run(["doctor", env.manifests], withState: false)
        #expect(
            doctor.out.contains(
                "warn ProxmoxCluster/pve transport: plain HTTP to http://127.0.0.1:1 (allowPlainHTTP): the API token crosses the network unencrypted"
            ),
            "\(doctor.out)"
        )
        #expect(!doctor.out.contains("verified against"), "no TLS claim for a plain HTTP endpoint: \(doctor.out)")
    }

    /// Credentials in a URL are refused, and neither the message nor the snippet repeats them.
    @Test func userInfoInAnEndpointIsRefusedAndNeverPrinted() async throws {
        let env = try await SimEnv()
        defer { Task { await env.stop() } }
        let withUser = env.clusterYAML().replacingOccurrences(of: "https://", with: "https://root:hunter2@")
        try (withUser + "---\n" + Self.guest).write(
            toFile: env.manifests + "/stack.yaml",
            atomically: true,
            encoding: .utf8
        )
        for output in ["text", "json"] {
            for command in ["validate", "plan"] {
                let r = await env.run([command, env.manifests, "--output", output], withState: command == "plan")
                #expect(r.code == 1, "\(command) \(output): \(r.out)\(r.err)")
                #expect(
                    (r.out + r.err).contains("the URL holds user information (user:password@host), which is refused"),
                    "\(r.out)\(r.err)"
                )
                #expect(
                    !(r.out + r.err).contains("hunter2") && !(r.out + r.err).contains("root:"),
                    "\(command) \(output) printed it: \(r.out)\(r.err)"
                )
            }
        }
    }

    /// A CR or LF in the token would end the Authorization header and start another: refused before anything is sent,
    /// naming the secret reference and never its value.
    @Test func aTokenWithALineBreakIsRefusedNamingItsReference() async throws {
        let env = try await SimEnv()
        defer { Task { await env.stop() } }
        try env.write([Self.guest])
        let before = await env.sim.snapshot.tasks.count
        let r = await env.run(["plan", env.manifests], token: SimEnv.token + "\r\nX-Injected: yes")
        #expect(r.code == 1)
        #expect(
            (r.out + r.err).contains("tokenSecret (env PVE_TOKEN) holds a control character (CR)"),
            "\(r.out)\(r.err)"
        )
        #expect(!(r.out + r.err).contains("X-Injected") && !(r.out + r.err).contains(SimEnv.token), "\(r.out)\(r.err)")
        #expect(await env.sim.snapshot.tasks.count == before)
        // The HTTP client refuses such a header whoever builds it, before any connection.
        await #expect(throws: HTTPError.self) {
            try await HTTPClient().send(HTTPRequest(url: "http://127.0.0.1:1/", headers: [("Authorization", "a\nb")]))
        }
        do {
            _ = try await HTTPClient().send(HTTPRequest(url: "http://user:pw@127.0.0.1:1/", headers: [("X-A", "a\rb")]))
        } catch let error as HTTPError {
            #expect(
                error.description
                    == "http://***@127.0.0.1:1/: the X-A header holds a control character (CR): refused, nothing was sent"
            )
        }
    }

    /// An error PVE answers names the URL as curl takes it, with the API root.
    @Test func pveErrorsNameTheFullURL() async throws {
        let env = try await SimEnv()
        defer { Task { await env.stop() } }
        try env.write([Self.guest])
        let r = await env.run(["plan", env.manifests], token: "00000000-0000-4000-8000-00000000dead")
        #expect(r.code == 1)
        #expect((r.out + r.err).contains("GET \(env.endpoint)/api2/json/"), "\(r.out)\(r.err)")
    }
}
