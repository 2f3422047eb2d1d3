import Foundation
import SetpointCore
import SetpointTesting
import Testing

/// The approvals page in a real browser (Debian's headless Chromium through Selenium), over TLS, against a controller
/// process with four-eyes on: sign in, see the pending plan, be refused self-approval, approve as a second user with
/// JavaScript off, see the plan applied and the approval in the audit log — and the page's security rules (CSRF, cookie
/// attributes, CSP, expired sessions and tokens, a viewer's approval). scripts/ui-browser-check.py drives the browser;
/// its screenshots go to .build/ui-screenshots (scripts/ui-screenshots copies them into docs/images/).
@Suite(.timeLimit(.minutes(5)), .serialized) struct ControllerUITests {
    static let python = "/usr/bin/python3"

    /// Chromium, its driver and Selenium from Debian; missing ones fail under CI=true.
    static func browserReady() -> String? {
        for path in ["/usr/bin/chromium", "/usr/bin/chromedriver", python]
        where !FileManager.default.isExecutableFile(atPath: path) {
            return "\(path) is missing (apt-get install chromium chromium-driver python3-selenium)"
        }
        return nil
    }

    @Test func signInSeeAPendingPlanBeRefusedSelfApprovalApproveAsAnotherAndSeeItAppliedAndAudited() async throws {
        if let missing = Self.browserReady() {
            if ExternalTool.isCI { Issue.record("\(missing)") }
            return
        }
        let env = try await SimEnv()
        defer { Task { await env.stop() } }
        try env.write([ControllerTests.vm(cores: 2)])
        let people = [
            ("approver", "alice@example.net"), ("approver", "bob@example.net"), ("viewer", "vic@example.net"),
            ("approver", "carol@example.net"), ("viewer", "dave@example.net"),
        ]
        var lines = try await ControllerAPITests.makeTokens(env, people).lines
        // carol's token expired yesterday; dave's expires in 45 s, while the browser works.
        let daveExpires = Date().addingTimeInterval(45).timeIntervalSince1970.rounded(.down)
        lines[3] += " expires=" + Timestamp.seconds(Date().addingTimeInterval(-86_400))
        lines[4] += " expires=" + Timestamp.seconds(Date(timeIntervalSince1970: daveExpires))
        try lines.joined(separator: "\n").write(toFile: env.dir + "/tokens", atomically: false, encoding: .utf8)
        let pair = try ControllerTLSTests.writePair(in: env.dir, tag: "api")

        let (process, output) = try ControllerAPITests.launch([
            env.manifests, "--interval", "300ms", "--listen", "127.0.0.1:0", "--tokens", env.dir + "/tokens",
            "--four-eyes", "--as", "alice@example.net", "--state", env.state,
            "--tls-certificate", pair.certificate, "--tls-key", pair.key,
        ])
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        try await output.wait(for: "approvals page on https://127.0.0.1:")
        let port = try await output.apiPort(scheme: "https")
        try await output.wait(for: "applied VirtualMachine/web-1:create")
        try env.write([ControllerTests.vm(cores: 4, approval: true)])
        let plan = try await output.pendingPlan()

        let screenshots = RepoPaths.path(".build/ui-screenshots")
        let config: [String: Any] = [
            "url": "https://127.0.0.1:\(port)", "ca": pair.ca, "pin": pair.pin, "plan": plan,
            "tokens": Dictionary(
                uniqueKeysWithValues: people.map {
                    ($0.1.split(separator: "@")[0].description, env.dir + "/\($0.1).token")
                }
            ),
            "daveExpires": daveExpires, "screenshots": screenshots,
        ]
        let configPath = env.dir + "/ui-check.json"
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: configPath))
        let check = try ChildProcess.start([Self.python, RepoPaths.path("scripts/ui-browser-check.py"), configPath])
        defer { check.signal(SIGKILL) }
        let status = await check.exitStatus(within: .seconds(150))
        #expect(status == 0, "ui-browser-check.py: \(check.output.value.suffix(4000))")
        let seen = check.stdout.value.split(separator: "\n").last.flatMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(seen?["ok"] as? Bool == true, "\(check.output.value.suffix(2000))")
        #expect((seen?["selfApproval"] as? String)?.contains("alice@example.net authored plan \(plan)") == true)
        #expect(seen?["noCSRF"] as? Int == 403)
        #expect(seen?["viewerApproval"] as? Int == 403)
        #expect(seen?["expiredToken"] as? Int == 401)
        #expect((seen?["sessionCookie"] as? String)?.contains("HttpOnly; Secure; SameSite=Strict") == true)
        for name in ["sign-in", "plans", "plan", "four-eyes", "approved", "operations", "resources", "audit"] {
            #expect(FileManager.default.fileExists(atPath: screenshots + "/ui-\(name).png"), "screenshot \(name)")
        }

        // What the browser did is in the audit log under bob's name, and the change was applied.
        #expect(output.value.contains("applied VirtualMachine/web-1:update"), "\(output.value.suffix(2000))")
        let audit = await env.run(["audit", "log", "--output", "json"])
        let approval = audit.out.split(separator: "\n").first { $0.contains("\"approval\"") }
        #expect(approval?.contains("bob@example.net") == true, "\(audit.out.suffix(2000))")
        #expect(approval?.contains("reviewed: 4 cores for the sale") == true, "\(audit.out.suffix(2000))")
        kill(process.processIdentifier, SIGTERM)
        #expect(await process.exitStatus(within: .seconds(30)) == 0, "\(output.value.suffix(2000))")
    }
}
