import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SetpointCore
import SetpointEngine
import SetpointState
import SetpointTesting
import Testing

@testable import SetpointController

/// Push webhooks through the controller's router: a verified push to the followed branch asks for a pass (202, the
/// reconciler woken); everything else is refused or ignored, saying why, and wakes nothing.
@Suite(.timeLimit(.minutes(1))) struct WebhookTests {
    static let secret = "It's a Secret to Everybody"

    struct Fixture {
        let api: ControllerAPI
        let reconciler: Reconciler

        init(branch: String? = "main") {
            reconciler = Reconciler(
                Reconciler.Configuration(
                    paths: [],
                    providers: [],
                    secrets: EnvironmentSecretResolver(environment: [:]),
                    clock: ManualClock()
                ),
                store: InMemoryStateStore()
            )
            api = ControllerAPI(
                store: InMemoryStateStore(),
                status: ControllerStatus(),
                reconciler: reconciler,
                tokens: TokenStore(try! Tokens(lines: "")),
                fourEyes: false,
                webhooks: Webhooks(secret: WebhookTests.secret, branch: branch)
            )
        }

        /// POSTs `body` to a webhook route; the status and the reply's text.
        func post(
            _ path: String,
            _ body: String,
            headers: [String: String]
        ) async throws -> (HTTPResponse.Status, String) {
            var fields = HTTPFields()
            fields[.contentType] = "application/json"
            for (k, v) in headers { fields[HTTPField.Name(k)!] = v }
            let sent = fields
            return try await Application(router: api.router()).test(.router) { client in
                try await client.execute(uri: path, method: .post, headers: sent, body: ByteBuffer(string: body)) {
                    ($0.status, String(buffer: $0.body))
                }
            }
        }
    }

    static func signature(_ body: String, key: String = secret) -> String {
        "sha256=" + SHA256.hexString(HMACSHA256.authenticate(Array(body.utf8), key: Array(key.utf8)))
    }

    /// GitHub's own example: "Hello, World!" with this secret (docs.github.com, "Validating webhook deliveries").
    @Test func theSignatureIsGitHubs() {
        #expect(
            Self.signature("Hello, World!")
                == "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        )
    }

    @Test func aSignedPushToTheBranchWakesAPass() async throws {
        let f = Fixture()
        let body = #"{"ref": "refs/heads/main", "after": "abc"}"#
        let (status, text) = try await f.post(
            "/api/v1/webhooks/github",
            body,
            headers: [
                "X-Hub-Signature-256": Self.signature(body), "X-GitHub-Event": "push", "X-GitHub-Delivery": "d-1",
            ]
        )
        #expect(status == .accepted, "\(text)")
        #expect(f.reconciler.takeWake()?.contains("GitHub push to main (delivery d-1)") == true)
        // The same delivery again: a replay.
        let (again, said) = try await f.post(
            "/api/v1/webhooks/github",
            body,
            headers: [
                "X-Hub-Signature-256": Self.signature(body), "X-GitHub-Event": "push", "X-GitHub-Delivery": "d-1",
            ]
        )
        #expect(again == .conflict && said.contains("replay"), "\(said)")
        #expect(f.reconciler.takeWake() == nil)
    }

    @Test func refusedOrIgnoredDeliveriesWakeNothing() async throws {
        let f = Fixture()
        let body = #"{"ref": "refs/heads/main"}"#
        let cases: [(String, [String: String], String, HTTPResponse.Status, String)] = [
            ("/api/v1/webhooks/github", ["X-GitHub-Event": "push"], body, .unauthorized, "no X-Hub-Signature-256"),
            (
                "/api/v1/webhooks/github",
                ["X-Hub-Signature-256": Self.signature(body, key: "wrong"), "X-GitHub-Event": "push"],
                body, .unauthorized, "does not match"
            ),
            // Signed for another body: the body was changed on the way.
            (
                "/api/v1/webhooks/github",
                ["X-Hub-Signature-256": Self.signature(#"{"ref": "refs/heads/other"}"#), "X-GitHub-Event": "push"],
                body,
                .unauthorized, "does not match"
            ),
            (
                "/api/v1/webhooks/github", ["X-Hub-Signature-256": Self.signature(body), "X-GitHub-Event": "ping"],
                body,
                .ok, "ping"
            ),
            (
                "/api/v1/webhooks/github",
                ["X-Hub-Signature-256": Self.signature(#"{"ref": "refs/heads/dev"}"#), "X-GitHub-Event": "push"],
                #"{"ref": "refs/heads/dev"}"#, .ok, "follows main"
            ),
            (
                "/api/v1/webhooks/github", ["X-Hub-Signature-256": Self.signature("{}"), "X-GitHub-Event": "push"],
                "{}",
                .badRequest, "no \\\"ref\\\""
            ),
            ("/api/v1/webhooks/gitlab", ["X-Gitlab-Event": "Push Hook"], body, .unauthorized, "no X-Gitlab-Token"),
            (
                "/api/v1/webhooks/gitlab", ["X-Gitlab-Token": "wrong", "X-Gitlab-Event": "Push Hook"], body,
                .unauthorized,
                "not --webhook-secret"
            ),
            (
                "/api/v1/webhooks/gitlab", ["X-Gitlab-Token": Self.secret, "X-Gitlab-Event": "Tag Push Hook"], body,
                .ok,
                "not a push"
            ),
        ]
        for (path, headers, body, expected, says) in cases {
            let (status, text) = try await f.post(path, body, headers: headers)
            #expect(status == expected, "\(path) \(headers): \(text)")
            #expect(text.contains(says), "\(path) \(headers): \(text)")
        }
        #expect(f.reconciler.takeWake() == nil, "nothing above asks for a pass")
        // A GitLab push with the token does.
        let (status, text) = try await f.post(
            "/api/v1/webhooks/gitlab",
            body,
            headers: ["X-Gitlab-Token": Self.secret, "X-Gitlab-Event": "Push Hook", "X-Gitlab-Event-UUID": "u-1"]
        )
        #expect(status == .accepted, "\(text)")
        #expect(f.reconciler.takeWake()?.contains("GitLab push to main") == true)
    }

    @Test func aBodyBeyondTheLimitIsRefusedUnread() async throws {
        let f = Fixture()
        let big = #"{"ref": "refs/heads/main", "pad": ""# + String(repeating: "x", count: Webhooks.bodyLimit) + #""}"#
        let (status, _) = try await f.post(
            "/api/v1/webhooks/github",
            big,
            headers: ["X-Hub-Signature-256": Self.signature(big), "X-GitHub-Event": "push"]
        )
        #expect(status == .contentTooLarge)
        #expect(f.reconciler.takeWake() == nil)
    }

    @Test func anyBranchWhenNoneIsFollowed() async throws {
        let f = Fixture(branch: nil)
        let body = #"{"ref": "refs/heads/feature/x"}"#
        let (status, _) = try await f.post(
            "/api/v1/webhooks/github",
            body,
            headers: ["X-Hub-Signature-256": Self.signature(body), "X-GitHub-Event": "push"]
        )
        #expect(status == .accepted)
    }
}
