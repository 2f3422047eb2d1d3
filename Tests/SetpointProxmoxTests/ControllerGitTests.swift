import Foundation
import PVESim
import SetpointCore
import SetpointHTTP
import SetpointTesting
import Testing

/// `setpoint controller --git-remote`: each pass fetches and fast-forwards the manifests' work tree, records the commit
/// in its plans and audit records, and treats the commit's author as a pending plan's author for four-eyes. A branch
/// that diverged is reported and never forced.
@Suite(.timeLimit(.minutes(5)), .serialized) struct ControllerGitTests {
    /// Runs git with a fixed identity; returns its standard output.
    @discardableResult
    static func git(_ args: [String], in dir: String, as email: String = "alice@example.net") async throws -> String {
        let r = try await ChildProcess.run(
            [
                "git", "-C", dir, "-c", "user.email=\(email)", "-c", "user.name=\(email.prefix { $0 != "@" })",
                "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false",
            ] + args
        )
        guard r.status == 0 else { throw GitFailed(message: "git \(args.joined(separator: " ")): \(r.stderr)") }
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    struct GitFailed: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    /// upstream (bare) ← alice's clone pushes; the controller's clone (`tree`, made by `cloneTree` after the first
    /// push) only fetches.
    struct Repositories {
        let env: SimEnv
        var upstream: String { env.dir + "/upstream.git" }
        var alice: String { env.dir + "/alice" }
        var tree: String { env.dir + "/tree" }

        static func make(_ env: SimEnv) async throws -> Repositories {
            let r = Repositories(env: env)
            try await ControllerGitTests.git(["init", "--bare", "-q", r.upstream], in: env.dir)
            try await ControllerGitTests.git(["clone", "-q", r.upstream, r.alice], in: env.dir)
            try await ControllerGitTests.git(["checkout", "-q", "-b", "main"], in: r.alice)
            return r
        }

        /// Commits the cluster and `documents` as alice's manifests and pushes them; returns the commit.
        @discardableResult
        func publish(
            _ documents: [String],
            as email: String = "alice@example.net",
            message: String
        ) async throws
            -> String
        {
            try FileManager.default.createDirectory(atPath: alice + "/manifests", withIntermediateDirectories: true)
            try ([env.clusterYAML()] + documents).joined(separator: "---\n").write(
                toFile: alice + "/manifests/stack.yaml",
                atomically: true,
                encoding: .utf8
            )
            try await ControllerGitTests.git(["add", "-A"], in: alice)
            try await ControllerGitTests.git(["commit", "-q", "-m", message], in: alice, as: email)
            try await ControllerGitTests.git(["push", "-q", "origin", "main"], in: alice)
            return try await ControllerGitTests.git(["rev-parse", "HEAD"], in: alice)
        }

        func cloneTree() async throws {
            try await ControllerGitTests.git(["clone", "-q", "--branch", "main", upstream, tree], in: env.dir)
        }
    }

    /// `--interval 1h`: only the webhook can bring a pass in time. A signed GitHub push webhook starts one at once; it
    /// fetches the pushed commit and applies it (measured: the seconds from the delivery to the applied change).
    @Test func aPushWebhookReconcilesWithinSecondsWithAnHourInterval() async throws {
        let env = try await SimEnv()
        defer { Task { await env.stop() } }
        let repos = try await Repositories.make(env)
        let (alice, tree) = (repos.alice, repos.tree)
        try await repos.publish([ControllerTests.vm(cores: 2)], message: "web-1: 2 cores")
        try await repos.cloneTree()
        let secret = "webhook-secret-\(UUID().uuidString)"
        try secret.write(toFile: env.dir + "/webhook-secret", atomically: true, encoding: .utf8)
        let (process, output) = try ControllerAPITests.launch([
            tree + "/manifests", "--git-remote", "origin", "--git-branch", "main", "--interval", "1h", "--listen",
            "127.0.0.1:0", "--webhook-secret", "file:" + env.dir + "/webhook-secret", "--state", env.state,
        ])
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        try await output.wait(for: "API on http://127.0.0.1:")
        let port = try #require(
            output.value.range(of: "API on http://127.0.0.1:").map {
                output.value[$0.upperBound...].prefix { $0.isNumber }
            }
        )
        try await output.wait(for: "applied VirtualMachine/web-1:create")

        try await repos.publish([ControllerTests.vm(cores: 4)], message: "web-1: 4 cores")
        let body = Data(#"{"ref": "refs/heads/main", "repository": {"full_name": "ops/stack"}}"#.utf8)
        let signature = "sha256=" + SHA256.hexString(HMACSHA256.authenticate(Array(body), key: Array(secret.utf8)))
        let http = HTTPClient(connections: 1)
        defer { http.shutdown() }
        func deliver(_ id: String, signature: String) async throws -> Int {
            try await http.send(
                HTTPRequest(
                    method: "POST",
                    url: "http://127.0.0.1:\(port)/api/v1/webhooks/github",
                    headers: [
                        ("Content-Type", "application/json"), ("X-GitHub-Event", "push"), ("X-GitHub-Delivery", id),
                        ("X-Hub-Signature-256", signature),
                    ],
                    body: body
                )
            ).status
        }
        // A forged delivery starts nothing.
        #expect(try await deliver("forged", signature: "sha256=" + String(repeating: "0", count: 64)) == 401)
        let clock = ContinuousClock()
        let sent = clock.now
        #expect(try await deliver("d-1", signature: signature) == 202)
        try await output.wait(for: "applied VirtualMachine/web-1:update", seconds: 60)
        let took = clock.now - sent
        print("webhook → applied in \(took) with --interval 1h")
        let pushed = try await Self.git(["rev-parse", "HEAD"], in: alice)
        #expect(try await Self.git(["rev-parse", "HEAD"], in: tree) == pushed, "the pass fetched the pushed commit")
        // The same delivery again: refused as a replay.
        #expect(try await deliver("d-1", signature: signature) == 409)
    }

    @Test func passesFollowTheRemoteRecordTheCommitAndItsAuthorCannotApproveItsOwnChange() async throws {
        let env = try await SimEnv()
        defer { Task { await env.stop() } }
        let repos = try await Repositories.make(env)
        let tree = repos.tree
        let first = try await repos.publish([ControllerTests.vm(cores: 2)], message: "web-1")
        try await repos.cloneTree()

        let (tokens, _) = try await ControllerAPITests.makeTokens(
            env,
            [("approver", "alice@example.net"), ("approver", "bob@example.net")]
        )
        let (process, output) = try ControllerAPITests.launch([
            tree + "/manifests", "--git-remote", "origin", "--interval", "300ms", "--listen", "127.0.0.1:0", "--tokens",
            env.dir + "/tokens",
            "--four-eyes", "--as", "controller@example.net", "--state", env.state,
        ])
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        func wait(for text: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) async throws {
            try await output.wait(for: text, sourceLocation: sourceLocation)
        }
        try await wait(for: "API on http://127.0.0.1:")
        let port = try #require(
            output.value.range(of: "API on http://127.0.0.1:").map {
                output.value[$0.upperBound...].prefix { $0.isNumber }
            }
        )
        let url = "http://127.0.0.1:\(port)"
        try await wait(for: "applied VirtualMachine/web-1:create")

        // A risky change pushed by alice: fetched, fast-forwarded, parked; the plan names the commit and its author.
        let second = try await repos.publish([ControllerTests.vm(cores: 4, approval: true)], message: "web-1: 4 cores")
        try await wait(for: "waiting for approval in plan p-")
        #expect(try await Self.git(["rev-parse", "HEAD"], in: tree) == second, "the work tree was fast-forwarded")
        #expect(
            output.value.contains(
                "git: origin/main moved \(first.prefix(12)) → \(second.prefix(12)) (alice@example.net: web-1: 4 cores)"
            ),
            "\(output.value)"
        )
        let planID = try #require(
            output.value.range(of: "waiting for approval in plan ").map {
                String(output.value[$0.upperBound...].prefix(14))
            }
        )
        let http = HTTPClient(connections: 1)
        defer { http.shutdown() }
        let plan = try await http.send(
            HTTPRequest(
                url: url + "/api/v1/plans/\(planID)",
                headers: [("Authorization", "Bearer \(tokens["bob@example.net"]!)"), ("Accept", "application/json")]
            )
        )
        let source = try #require(
            (try JSONSerialization.jsonObject(with: plan.body) as? [String: Any])?["source"] as? [String: Any]
        )
        #expect(
            source["gitCommit"] as? String == second && source["gitAuthor"] as? String == "alice@example.net",
            "\(source)"
        )

        // Four-eyes: the commit's author may not approve it; bob may.
        let byAlice = await env.run(
            ["approve", planID, "--controller", url, "--token-file", env.dir + "/alice@example.net.token"],
            withState: false
        )
        #expect(byAlice.code == 1 && byAlice.err.contains("four-eyes"), "\(byAlice.out)\(byAlice.err)")
        let byBob = await env.run(
            ["approve", planID, "--controller", url, "--token-file", env.dir + "/bob@example.net.token"],
            withState: false
        )
        #expect(byBob.code == 0, "\(byBob.out)\(byBob.err)")
        try await wait(for: "applied VirtualMachine/web-1:update")

        // Every plan record carries the commit it was made from.
        let audit = await env.run(["audit", "log", "--output", "json"])
        let planRecords = audit.out.split(separator: "\n").filter { $0.contains("\"event\":\"plan\"") }
        #expect(
            !planRecords.isEmpty && planRecords.allSatisfy { $0.contains(first) || $0.contains(second) },
            "\(audit.out)"
        )

        // The controller's branch gets a commit of its own: the remote's next commit cannot fast-forward it. Reported,
        // never forced; the checked-out commit is still what is reconciled.
        try "# local note\n".write(toFile: tree + "/NOTES", atomically: true, encoding: .utf8)
        try await Self.git(["add", "NOTES"], in: tree)
        try await Self.git(["commit", "-q", "-m", "local"], in: tree, as: "ops@example.net")
        let local = try await Self.git(["rev-parse", "HEAD"], in: tree)
        _ = try await repos.publish([ControllerTests.vm(cores: 6)], message: "web-1: 6 cores")
        try await wait(for: "diverged")
        #expect(try await Self.git(["rev-parse", "HEAD"], in: tree) == local, "nothing forced")
        let ready = try await http.send(HTTPRequest(url: url + "/readyz"))
        let readyText = String(decoding: ready.body, as: UTF8.self)
        #expect(ready.status == 200 && readyText.contains("diverged") && readyText.contains(local), "\(readyText)")
        let guest = await env.guest(named: "web-1")
        #expect(
            (guest?.pending["cores"] ?? guest?.config["cores"]) == "4",
            "the unmerged commit's 6 cores are not applied"
        )

        kill(process.processIdentifier, SIGTERM)
        for _ in 0..<200 where process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!process.isRunning && process.terminationStatus == 0)
    }
}
