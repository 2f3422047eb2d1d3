import Foundation
import PVESim
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

    @Test func passesFollowTheRemoteRecordTheCommitAndItsAuthorCannotApproveItsOwnChange() async throws {
        let env = try await SimEnv()
        defer { Task { await env.stop() } }
        // upstream (bare) ← alice's clone pushes; the controller's clone only fetches.
        let upstream = env.dir + "/upstream.git"
        let alice = env.dir + "/alice"
        let tree = env.dir + "/tree"
        try await Self.git(["init", "--bare", "-q", upstream], in: env.dir)
        try await Self.git(["clone", "-q", upstream, alice], in: env.dir)
        try await Self.git(["checkout", "-q", "-b", "main"], in: alice)
        func publish(
            _ documents: [String],
            as email: String = "alice@example.net",
            message: String
        ) async throws -> String {
            try FileManager.default.createDirectory(atPath: alice + "/manifests", withIntermediateDirectories: true)
            try ([env.clusterYAML()] + documents).joined(separator: "---\n").write(
                toFile: alice + "/manifests/stack.yaml",
                atomically: true,
                encoding: .utf8
            )
            try await Self.git(["add", "-A"], in: alice)
            try await Self.git(["commit", "-q", "-m", message], in: alice, as: email)
            try await Self.git(["push", "-q", "origin", "main"], in: alice)
            return try await Self.git(["rev-parse", "HEAD"], in: alice)
        }
        let first = try await publish([ControllerTests.vm(cores: 2)], message: "web-1")
        try await Self.git(["clone", "-q", "--branch", "main", upstream, tree], in: env.dir)

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
        let second = try await publish([ControllerTests.vm(cores: 4, approval: true)], message: "web-1: 4 cores")
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
        _ = try await publish([ControllerTests.vm(cores: 6)], message: "web-1: 6 cores")
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
