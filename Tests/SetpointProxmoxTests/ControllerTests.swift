import Foundation
import PVESim
import SetpointCore
import SetpointHTTP
import SetpointPG
import SetpointState
import SetpointTesting
import Testing

/// `setpoint controller` passes against pve-sim: it converges, corrects drift (or only reports it), and parks risky
/// changes in one pending plan that repeated passes reuse.
@Suite(.timeLimit(.minutes(5))) struct ControllerTests {
    static func vm(cores: Int, approval: Bool = false) -> String {
        """
        apiVersion: setpoint/v1
        kind: VirtualMachine
        metadata:
          name: web-1
        \(approval ? "  annotations: {setpoint/approval: required}\n" : "")spec:
          cluster: pve
          node: pve1
          cores: \(cores)
          memory: 2Gi
          disks:
            scsi0: {storage: local-lvm, size: 8Gi}

        """
    }

    func pass(_ env: SimEnv, _ extra: [String] = []) async -> (code: Int32, out: String) {
        let r = await env.run(["controller", env.manifests, "--once"] + extra)
        return (r.code, r.out + r.err)
    }

    @Test func aPassConvergesCorrectsDriftOrReportsItAndParksRiskyChangesInOnePendingPlan() async throws {
        let env = try await SimEnv()
        defer { Task { await env.stop() } }
        try env.write([Self.vm(cores: 2)])
        let first = await pass(env)
        #expect(first.code == 0 && first.out.contains("applied VirtualMachine/web-1:create"), "\(first.out)")
        let guest = try #require(await env.guest(named: "web-1"))
        #expect(await pass(env).out.contains("in sync"))

        // Memory changed behind Setpoint's back: corrected in the next pass, and the audit log says it was drift.
        await env.pve("PUT", "/nodes/pve1/qemu/\(guest.vmid)/config", ["memory": "4096"])
        try await env.settle()
        let corrected = await pass(env)
        #expect(
            corrected.out.contains(all: ["drift: VirtualMachine/web-1", "applied VirtualMachine/web-1:update"]),
            "\(corrected.out)"
        )
        let fixed = await env.guest(named: "web-1")
        #expect((fixed?.pending["memory"] ?? fixed?.config["memory"]) == "2048", "the staged change was reverted")
        let audit = await env.run(["audit", "log", "--output", "json"])
        #expect(
            audit.out.contains("\"origin\":\"drift\"") || audit.out.contains("\"origin\": \"drift\""),
            "\(audit.out.suffix(600))"
        )

        // With drift reported only, it stays as it is.
        await env.pve("PUT", "/nodes/pve1/qemu/\(guest.vmid)/config", ["memory": "4096"])
        try await env.settle()
        let reported = await pass(env, ["--drift-policy", "report"])
        #expect(
            reported.out.contains(all: ["drift: VirtualMachine/web-1", "drift reported, not corrected"]),
            "\(reported.out)"
        )
        let left = await env.guest(named: "web-1")
        #expect((left?.pending["memory"] ?? left?.config["memory"]) == "4096", "\(reported.out)")
        _ = await pass(env)

        // A change that needs approval waits in a pending plan; passes reuse it rather than making new ones.
        try env.write([Self.vm(cores: 4, approval: true)])
        let waiting = await pass(env)
        let again = await pass(env)
        let id = try #require(
            waiting.out.range(of: "plan p-").map { String(waiting.out[$0.lowerBound...].dropFirst(5).prefix(14)) }
        )
        #expect(waiting.out.contains("waiting for approval") && again.out.contains(id), "\(waiting.out)\n\(again.out)")
        #expect(await env.guest(named: "web-1")?.config["cores"] == "2", "nothing changes until approved")
        let store = try #require(try SQLiteStateStore.openReadOnly(path: env.state))
        #expect(try await store.storedPlans(status: .pending).map(\.id) == [id], "one pending plan, reused")

        // The manifest changes again before anyone approves: a new plan; approving the old one applies nothing.
        try env.write([Self.vm(cores: 6, approval: true)])
        let edited = await pass(env)
        #expect(
            edited.out.contains("waiting for approval") && !edited.out.contains(id),
            "another plan for another change:\n\(edited.out)"
        )
        let writer = try SQLiteStateStore.open(path: env.state)
        #expect(try await writer.storedPlan(id: id)?.status == .stale)
        _ = try await writer.transitionPlan(id: id, from: [.stale], to: .approved, audit: nil)
        try writer.close()
        _ = await pass(env)
        let g = await env.guest(named: "web-1")
        #expect((g?.pending["cores"] ?? g?.config["cores"]) == "2", "an approval of what nobody saw applies nothing")
    }
}

/// The controller on the quickstart's own manifests (their cluster pointed at this test's pve-sim): it converges them,
/// and the memory of a stopped guest changed directly on pve-sim is corrected in the next pass, as drift.
@Suite(.timeLimit(.minutes(5))) struct ControllerQuickstartTests {
    @Test func aControllerConvergesTheQuickstartAndCorrectsAStoppedGuestsMemory() async throws {
        let env = try await SimEnv()
        defer { Task { await env.stop() } }
        let example = RepoPaths.path("examples/quickstart")
        for file in try FileManager.default.contentsOfDirectory(atPath: example)
        where file.hasSuffix(".yaml") && file != "cluster.yaml" {
            try FileManager.default.copyItem(atPath: example + "/" + file, toPath: env.manifests + "/" + file)
        }
        try env.clusterYAML().replacingOccurrences(of: "metadata: {name: pve}", with: "metadata: {name: local}")
            .write(toFile: env.manifests + "/cluster.yaml", atomically: true, encoding: .utf8)
        func pass() async -> String {
            let r = await env.run(["controller", env.manifests, "--once"])
            #expect(r.code == 0, "\(r.out)\(r.err)")
            return r.out + r.err
        }
        let first = await pass()
        #expect(
            first.contains(all: [
                "applied", "VirtualMachine/web-1:create", "VirtualMachine/web-2:create", "ResourcePool/demo:create",
            ]),
            "\(first)"
        )
        try await env.settle()
        let second = await pass()
        #expect(second.contains("in sync"), "\(second)")

        let guest = try #require(await env.guest(named: "web-1"))
        await env.pve("POST", "/nodes/pve1/qemu/\(guest.vmid)/status/stop")
        try await env.settle()
        await env.pve("PUT", "/nodes/pve1/qemu/\(guest.vmid)/config", ["memory": "3072"])
        try await env.settle()
        let corrected = await pass()
        #expect(
            corrected.contains(all: ["drift: VirtualMachine/web-1", "applied VirtualMachine/web-1:update"]),
            "\(corrected)"
        )
        #expect(
            await env.guest(named: "web-1")?.config["memory"] == "1024",
            "a stopped guest's memory is set back at once"
        )
        let audit = await env.run(["audit", "log", "--output", "json"])
        #expect(
            audit.out.contains("\"origin\":\"drift\"") && audit.out.contains("web-1:update"),
            "\(audit.out.suffix(800))"
        )
        try await env.settle()
        #expect(await pass().contains("in sync"))
    }
}

/// The controller as a process, with its API: tokens and roles, approvals through `setpoint approve`, four-eyes,
/// SIGTERM.
@Suite(.timeLimit(.minutes(5)), .serialized) struct ControllerAPITests {

    /// `setpoint controller ARGS…` as a process, with the pve-sim token, its output collected.
    static func launch(_ arguments: [String]) throws -> (ChildProcess, Output) {
        try LaunchedProcess.setpoint(
            ["controller"] + arguments,
            environment: ["PVE_TOKEN": "5e7d0000-0000-4000-8000-000000000001"]
        )
    }

    typealias Output = ProcessOutput

    /// Makes a token for each person, writes the tokens file (`DIR/tokens`) and each token to `DIR/EMAIL.token`;
    /// returns the tokens by e-mail and the tokens file's lines.
    static func makeTokens(
        _ env: SimEnv,
        _ people: [(role: String, email: String)]
    ) async throws -> (tokens: [String: String], lines: [String]) {
        var lines: [String] = []
        var tokens: [String: String] = [:]
        for (role, who) in people {
            let r = await env.run(["token", "create", "--role", role, "--email", who], withState: false)
            let token = try #require(r.out.split(separator: "\n").first?.split(separator: " ").last.map(String.init))
            lines.append(
                try #require(
                    r.out.split(separator: "\n").last?.replacingOccurrences(of: "tokens file line: ", with: "")
                )
            )
            tokens[who] = token
            try token.write(toFile: env.dir + "/\(who).token", atomically: false, encoding: .utf8)
        }
        try lines.joined(separator: "\n").write(toFile: env.dir + "/tokens", atomically: false, encoding: .utf8)
        return (tokens, lines)
    }

    @Test func tokenMatrixApprovalByAnotherIdentityFourEyesAndAGracefulStop() async throws {
        let env = try await SimEnv()
        defer { Task { await env.stop() } }
        try env.write([ControllerTests.vm(cores: 2)])
        // Three people: a viewer, and two approvers; the controller acts (and authors plans) as alice.
        let (tokens, lines) = try await Self.makeTokens(
            env,
            [("viewer", "vic@example.net"), ("approver", "alice@example.net"), ("approver", "bob@example.net")]
        )

        let (process, output) = try Self.launch([
            env.manifests, "--interval", "300ms", "--listen", "127.0.0.1:0", "--tokens", env.dir + "/tokens",
            "--four-eyes", "--as", "alice@example.net", "--state", env.state,
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

        // A change that needs approval: one pending plan.
        try env.write([ControllerTests.vm(cores: 4, approval: true)])
        try await wait(for: "waiting for approval in plan p-")
        let planID = try #require(
            output.value.range(of: "waiting for approval in plan ").map {
                String(output.value[$0.upperBound...].prefix(14))
            }
        )

        // Token matrix on the write routes: none → 401, viewer → 403, approver → 200 (alice is refused by four-eyes).
        let http = HTTPClient(connections: 1)
        defer { http.shutdown() }
        func post(_ path: String, _ token: String?) async throws -> Int {
            var headers: [(name: String, value: String)] = [("Content-Type", "application/json")]
            if let token { headers.append(("Authorization", "Bearer \(token)")) }
            return try await http.send(
                HTTPRequest(method: "POST", url: url + path, headers: headers, body: Data("{\"reason\":\"test\"}".utf8))
            ).status
        }
        #expect(try await post("/api/v1/plans/\(planID)/approve", nil) == 401)
        #expect(try await post("/api/v1/plans/\(planID)/approve", "wrong-token") == 401)
        #expect(try await post("/api/v1/plans/\(planID)/approve", tokens["vic@example.net"]) == 403)
        #expect(try await post("/api/v1/plans/\(planID)/reject", tokens["vic@example.net"]) == 403)
        let selfApproval = await env.run(
            ["approve", planID, "--controller", url, "--token-file", env.dir + "/alice@example.net.token"],
            withState: false
        )
        #expect(
            selfApproval.code == 1 && selfApproval.err.contains("four-eyes"),
            "\(selfApproval.out)\(selfApproval.err)"
        )
        let list = await env.run(
            [
                "plans", "list", "--status", "pending", "--controller", url, "--token-file",
                env.dir + "/vic@example.net.token",
            ],
            withState: false
        )
        #expect(list.out.contains(planID), "\(list.out)\(list.err)")
        let approved = await env.run(
            ["approve", planID, "--controller", url, "--token-file", env.dir + "/bob@example.net.token"],
            withState: false
        )
        #expect(approved.code == 0 && approved.out.contains("approved"), "\(approved.out)\(approved.err)")
        try await wait(for: "applied VirtualMachine/web-1:update")
        let changed = await env.guest(named: "web-1")
        #expect(
            (changed?.pending["cores"] ?? changed?.config["cores"]) == "4",
            "applied (staged until a restart, if the guest runs)"
        )
        let health = try await http.send(HTTPRequest(url: url + "/healthz"))
        #expect(health.status == 200)
        let metrics = String(decoding: try await http.send(HTTPRequest(url: url + "/metrics")).body, as: UTF8.self)
        #expect(
            metrics.contains(all: [
                "setpoint_passes_total", "setpoint_reconcile_duration_seconds_bucket{le=\"+Inf\"}",
                "setpoint_seconds_since_last_success", "setpoint_provider_requests_total{system=\"proxmox\"}",
            ]),
            "\(metrics)"
        )

        // gzip when asked (and only then): the same document, compressed.
        let plainDoc = try await http.send(HTTPRequest(url: url + "/openapi.yaml"))
        let gzipped = try await http.send(
            HTTPRequest(url: url + "/openapi.yaml", headers: [("Accept-Encoding", "br;q=1, gzip;q=0.5")])
        )
        #expect(plainDoc.headers["content-encoding"] == nil)
        #expect(gzipped.headers["content-encoding"] == "gzip")
        #expect(
            gzipped.body.count < plainDoc.body.count / 2 && Array(gzipped.body.prefix(2)) == [0x1f, 0x8b],
            "\(gzipped.body.count) bytes"
        )
        let gunzip = try ChildProcess.start(["/bin/gzip", "-dc"], input: gzipped.body)
        await gunzip.exitStatus()
        let unpacked = Data(gunzip.stdout.value.utf8)
        #expect(unpacked == plainDoc.body, "gunzip gives the document back")

        // The OpenAPI document is the one in docs/, and every GET path it lists is served.
        let served = String(decoding: try await http.send(HTTPRequest(url: url + "/openapi.yaml")).body, as: UTF8.self)
        let committed = try String(contentsOfFile: RepoPaths.path("docs/openapi.yaml"), encoding: .utf8)
        #expect(served == committed, "docs/openapi.yaml differs from what the controller serves")
        var docLines = committed.split(separator: "\n").map(String.init)[...]
        while let line = docLines.popFirst() {
            guard line.hasPrefix("  /"), line.hasSuffix(":"),
                docLines.first?.trimmingCharacters(in: .whitespaces) == "get:"
            else { continue }
            let path = String(line.dropFirst(2).dropLast()).replacingOccurrences(of: "{id}", with: planID)
                .replacingOccurrences(of: "{kind}", with: "VirtualMachine").replacingOccurrences(
                    of: "{name}",
                    with: "web-1"
                )
            let r = try await http.send(
                HTTPRequest(url: url + path, headers: [("Authorization", "Bearer \(tokens["vic@example.net"]!)")])
            )
            // A job exists only while a backup runs (or a while after): an unknown one is a JSON 404.
            let expected = path.contains("{job}") ? 404 : 200
            #expect(r.status == expected, "GET \(path) answers \(r.status): \(String(decoding: r.body, as: UTF8.self))")
        }

        // Rotating tokens: a line added to the file counts after SIGHUP, without a restart.
        let carol = await env.run(
            ["token", "create", "--role", "viewer", "--email", "carol@example.net"],
            withState: false
        )
        let carolToken = try #require(
            carol.out.split(separator: "\n").first?.split(separator: " ").last.map(String.init)
        )
        let carolLine = try #require(
            carol.out.split(separator: "\n").last?.replacingOccurrences(of: "tokens file line: ", with: "")
        )
        func asCarol() async throws -> Int {
            try await http.send(
                HTTPRequest(url: url + "/api/v1/plans", headers: [("Authorization", "Bearer \(carolToken)")])
            ).status
        }
        #expect(try await asCarol() == 401)
        try (lines + [carolLine]).joined(separator: "\n").write(
            toFile: env.dir + "/tokens",
            atomically: false,
            encoding: .utf8
        )
        kill(process.processIdentifier, SIGHUP)
        try await wait(for: "tokens file")
        #expect(try await asCarol() == 200)

        // SIGTERM: a clean stop.
        kill(process.processIdentifier, SIGTERM)
        for _ in 0..<200 where process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!process.isRunning && process.terminationStatus == 0, "\(output.value)")
        let audit = await env.run(["audit", "log"])
        #expect(audit.out.contains(all: ["approval", "bob@example.net", "alice@example.net"]), "\(audit.out)")
    }
}

/// Two controllers on one PostgreSQL state: one leads and applies, the other follows; when the leader is killed the
/// other leads within the lease's TTL and applies what comes next; nothing is applied twice.
@Suite(
    .timeLimit(.minutes(5)),
    .serialized,
    .enabled(if: ProcessInfo.processInfo.environment["SETPOINT_TEST_PG_PORT"] != nil || ExternalTool.isCI)
)
struct ControllerHATests {
    static func database() async throws -> String {
        let env = ProcessInfo.processInfo.environment
        let port = try #require(env["SETPOINT_TEST_PG_PORT"], "scripts/test starts PostgreSQL")
        let password = env["SETPOINT_TEST_PG_PASSWORD"] ?? ""
        let name = "setpoint_ha_\(UUID().uuidString.prefix(8).lowercased())"
        let admin = try await PGConnection.connect(
            PGConfig(
                host: "127.0.0.1",
                port: Int(port),
                user: "postgres",
                password: password,
                database: "postgres",
                sslmode: "disable"
            )
        )
        defer { admin.close() }
        _ = try await admin.query("CREATE DATABASE \(try PGQuote.identifier(name))")
        return "postgres://postgres:\(password)@127.0.0.1:\(port)/\(name)?sslmode=disable"
    }

    func start(
        _ env: SimEnv,
        state: String,
        name: String,
        ttl: String = "10s"
    ) throws -> (ChildProcess, ControllerAPITests.Output) {
        try ControllerAPITests.launch([
            env.manifests, "--interval", "300ms", "--listen", "none", "--as", "\(name)@example.net", "--state", state,
            "--lease-ttl", ttl,
        ])
    }

    static let runs = Int(ProcessInfo.processInfo.environment["SETPOINT_HA_RUNS"] ?? "") ?? 10

    @Test(arguments: 0..<runs) func oneLeadsTheOtherTakesOverWithinTheTTLAfterAKillAndNothingIsAppliedTwice(
        run: Int
    ) async throws {
        let env = try await SimEnv()
        defer { Task { await env.stop() } }
        let state = try await Self.database()
        try env.write([ControllerTests.vm(cores: 2)])
        let (a, outA) = try start(env, state: state, name: "a")
        let (b, outB) = try start(env, state: state, name: "b")
        defer {
            for p in [a, b] where p.isRunning { kill(p.processIdentifier, SIGKILL) }
        }
        for _ in 0..<400 where !(outA.value + outB.value).contains("applied VirtualMachine/web-1:create") {
            try await Task.sleep(for: .milliseconds(50))
        }
        for _ in 0..<40 where !(outA.value.contains("following") || outB.value.contains("following")) {
            try await Task.sleep(for: .milliseconds(50))
        }
        let aLeads = outA.value.contains("applied VirtualMachine/web-1:create")
        let (leader, follower, followerOut) = aLeads ? (a, b, outB) : (b, a, outA)
        #expect(followerOut.value.contains("following (not leading)"), "the other follows:\n\(followerOut.value)")
        #expect(
            !followerOut.value.contains("applied VirtualMachine") && !followerOut.value.contains("error"),
            "only the leader applies, and the follower writes nothing:\n\(followerOut.value)"
        )

        // The leader dies without a word; the follower leads once the lease expires (TTL 10 s) and applies the next change.
        await leader.kill()
        let killedAt = ContinuousClock.now
        try env.write([ControllerTests.vm(cores: 3)])
        for _ in 0..<400 where !followerOut.value.contains("applied VirtualMachine/web-1:update") {
            try await Task.sleep(for: .milliseconds(50))
        }
        let took = ContinuousClock.now - killedAt
        print("controller failover: the follower applied \(took) after the leader was killed")
        #expect(followerOut.value.contains("applied VirtualMachine/web-1:update"), "\(followerOut.value)")
        #expect(took < .seconds(15), "took \(took)")

        kill(follower.processIdentifier, SIGTERM)
        for _ in 0..<200 where follower.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        #expect(follower.terminationStatus == 0)
        let audit = await env.run(["audit", "log", "--output", "json", "--state", state], withState: false)
        let creates = audit.out.split(separator: "\n").filter {
            $0.contains("\"outcome\"") && $0.contains("web-1:create") && $0.contains("succeeded")
        }
        #expect(creates.count == 1, "one create in the audit log:\n\(audit.out)")
        let verify = await env.run(["audit", "verify", "--state", state], withState: false)
        #expect(verify.code == 0, "\(verify.out)\(verify.err)")
    }

    /// The leader is paused (SIGSTOP) while a slow PVE task it started is in flight: the other leads once the lease
    /// expires, finds the action's journal and waits for that task instead of creating the guest again; the paused one,
    /// continued (SIGCONT), has every write refused for its stale epoch and steps down. One create, in pve-sim and in
    /// the audit log.
    @Test(arguments: 0..<runs) func aPausedLeaderIsReplacedItsTaskAwaitedNotReissuedAndItsWritesRefusedWhenItWakes(
        run: Int
    ) async throws {
        let env = try await SimEnv { $0.taskSeconds = 2 }
        defer { Task { await env.stop() } }
        let state = try await Self.database()
        try env.write([ControllerTests.vm(cores: 2)])
        let (a, outA) = try start(env, state: state, name: "a", ttl: "2s")
        defer {
            for p in [a] where p.isRunning {
                kill(p.processIdentifier, SIGCONT)
                kill(p.processIdentifier, SIGKILL)
            }
        }
        // a leads and starts the create; its task runs in pve-sim.
        for _ in 0..<400 where !(await env.sim.snapshot.tasks.contains(where: \.isRunning)) {
            try await Task.sleep(for: .milliseconds(25))
        }
        #expect(
            await env.sim.snapshot.tasks.contains(where: \.isRunning),
            "a's create task is in flight:\n\(outA.value)"
        )
        let (b, outB) = try start(env, state: state, name: "b", ttl: "2s")
        defer { for p in [b] where p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        for _ in 0..<200 where !outB.value.contains("following") { try await Task.sleep(for: .milliseconds(25)) }
        #expect(outB.value.contains("following (not leading)"), "b follows while a leads:\n\(outB.value)")

        kill(a.processIdentifier, SIGSTOP)
        let pausedAt = ContinuousClock.now
        for _ in 0..<400 where !outB.value.contains("applied VirtualMachine/web-1:create") {
            try await Task.sleep(for: .milliseconds(50))
            _ = await env.pve("GET", "/version")  // pve-sim finishes tasks as it is called
        }
        let took = ContinuousClock.now - pausedAt
        #expect(
            outB.value.contains("applied VirtualMachine/web-1:create"),
            "b leads after the lease expires and finishes the create:\n\(outB.value)"
        )
        #expect(took >= .seconds(1), "b waited for the lease to expire (took \(took))")
        #expect(
            await env.sim.snapshot.createdNames["web-1"] == 1,
            "b waited for a's task instead of creating web-1 again"
        )

        // a wakes: its writes carry a stale epoch and are refused; it steps down and follows.
        let before = outA.value.count
        kill(a.processIdentifier, SIGCONT)
        for _ in 0..<400 where !String(outA.value.dropFirst(before)).contains("following") {
            try await Task.sleep(for: .milliseconds(25))
        }
        let woke = String(outA.value.dropFirst(before))
        #expect(woke.contains("following (not leading)"), "a steps down:\n\(outA.value)")
        #expect(
            woke.contains("stale epoch") || woke.contains("no longer the leader"),
            "a's late writes were refused:\n\(outA.value)"
        )
        #expect(!woke.contains("applied VirtualMachine"), "a applies nothing once it woke:\n\(outA.value)")

        for p in [a, b] { kill(p.processIdentifier, SIGTERM) }
        for _ in 0..<200 where a.isRunning || b.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        #expect(await env.sim.snapshot.createdNames["web-1"] == 1)
        let audit = await env.run(["audit", "log", "--output", "json", "--state", state], withState: false)
        let creates = audit.out.split(separator: "\n").filter {
            $0.contains("\"outcome\"") && $0.contains("web-1:create") && $0.contains("succeeded")
        }
        #expect(creates.count == 1, "one create in the audit log:\n\(audit.out)")
        let verify = await env.run(["audit", "verify", "--state", state], withState: false)
        #expect(verify.code == 0, "\(verify.out)\(verify.err)")
    }

    /// The state database's password stays off the command line: from a file (--state-password-file), or — when a URL
    /// carries one — with a warning and hidden from this process's own argv (`ps`, /proc/PID/cmdline) before it connects.
    @Test func theStatePasswordStaysOffTheCommandLine() async throws {
        let env = try await SimEnv()
        defer { Task { await env.stop() } }
        try env.write([ControllerTests.vm(cores: 2)])
        let password = try #require(ProcessInfo.processInfo.environment["SETPOINT_TEST_PG_PASSWORD"])
        let withPassword = try await Self.database()
        let bare = withPassword.replacingOccurrences(of: "postgres:\(password)@", with: "postgres@")
        try (password + "\n").write(toFile: env.dir + "/state-password", atomically: true, encoding: .utf8)

        for (state, extra) in [(bare, ["--state-password-file", env.dir + "/state-password"]), (withPassword, [])] {
            let (process, output) = try ControllerAPITests.launch(
                [env.manifests, "--interval", "300ms", "--listen", "none", "--state", state] + extra
            )
            defer { process.signal(SIGKILL) }
            // A pass summary line ("2026-12-07T10:00:00Z pass: …"): the controller is up, its signal handling too.
            #expect(await output.waitFor("Z pass"), "\(output.value)")
            let cmdline = try String(
                decoding: Data(contentsOf: URL(fileURLWithPath: "/proc/\(process.processIdentifier)/cmdline")),
                as: UTF8.self
            )
            #expect(
                !cmdline.contains(password),
                "the password is not in ps: \(cmdline.replacingOccurrences(of: "\0", with: " "))"
            )
            #expect(
                output.value.contains("warning: the --state URL carries a password") == extra.isEmpty,
                "\(output.value)"
            )
            #expect(!output.value.contains("error"), "it connected and reconciled: \(output.value)")
            process.signal(SIGTERM)
            #expect(await process.exitStatus(within: .seconds(30)) == 0)
        }
        try "wrong\n".write(toFile: env.dir + "/state-password", atomically: true, encoding: .utf8)
        let refused = await env.run(
            ["audit", "verify", "--state", bare, "--state-password-file", env.dir + "/state-password"],
            withState: false
        )
        #expect(
            refused.code != 0 && refused.err.contains("password authentication failed"),
            "the file's password is the one used: \(refused.err)"
        )
    }
}

/// SIGTERM while a slow PVE task runs: the started action finishes and is recorded, the controller exits 0, and the
/// next start finds nothing to do (nothing created twice).
@Suite(.timeLimit(.minutes(5)), .serialized) struct ControllerShutdownTests {
    @Test func sigtermDuringASlowTaskRecordsItsOutcomeExitsZeroAndTheNextStartDoesNotRepeatIt() async throws {
        let env = try await SimEnv { $0.taskSeconds = 2 }
        defer { Task { await env.stop() } }
        try env.write([ControllerTests.vm(cores: 2)])
        let (process, output) = try ControllerAPITests.launch([
            env.manifests, "--interval", "300ms", "--listen", "none", "--state", env.state,
        ])
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        // Wait for the create's task to be running in pve-sim, then ask the controller to stop.
        for _ in 0..<200 where !(await env.sim.snapshot.tasks.contains(where: \.isRunning)) {
            try await Task.sleep(for: .milliseconds(25))
        }
        #expect(await env.sim.snapshot.tasks.contains(where: \.isRunning), "a slow task is in flight")
        kill(process.processIdentifier, SIGTERM)
        for _ in 0..<400 where process.isRunning {
            try await Task.sleep(for: .milliseconds(50))
            _ = await env.pve("GET", "/version")  // pve-sim finishes tasks as it is called
        }
        #expect(!process.isRunning && process.terminationStatus == 0, "\(output.value)")
        #expect(
            output.value.contains("applied VirtualMachine/web-1:create"),
            "the started action finished and was recorded:\n\(output.value)"
        )
        let audit = await env.run(["audit", "log", "--output", "json"])
        #expect(audit.out.contains("\"succeeded\""), "\(audit.out.suffix(400))")
        let again = await env.run(["controller", env.manifests, "--once", "--listen", "none"])
        #expect(again.out.contains("in sync"), "\(again.out)\(again.err)")
        #expect(await env.sim.snapshot.createdNames["web-1"] == 1, "created once")
    }
}

extension ProcessOutput {
    /// Waits until the output holds `text`; records an issue (with the output) when it never does.
    func wait(
        for text: String,
        seconds: Double = 20,
        sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) async throws {
        let found = await waitFor(text, seconds: seconds)
        #expect(found, "waited for '\(text)':\n\(value)", sourceLocation: sourceLocation)
    }
}

extension ProcessOutput {
    /// The API's port from the controller's `API on SCHEME://127.0.0.1:PORT` line, once it is printed.
    func apiPort(scheme: String = "http") async throws -> String {
        try await wait(for: "API on \(scheme)://127.0.0.1:")
        return try #require(
            value.range(of: "API on \(scheme)://127.0.0.1:").map {
                String(value[$0.upperBound...].prefix { $0.isNumber })
            }
        )
    }

    /// The pending plan's id, once the controller prints `waiting for approval in plan p-…`.
    func pendingPlan() async throws -> String {
        try await wait(for: "waiting for approval in plan p-")
        return try #require(
            value.range(of: "waiting for approval in plan ").map { String(value[$0.upperBound...].prefix(14)) }
        )
    }
}
