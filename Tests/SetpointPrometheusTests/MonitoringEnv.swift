import Foundation
import SetpointCLI
import SetpointCore
import SetpointEngine
import SetpointHTTP
import SetpointPrometheus
import SetpointTesting
import Testing

/// The Prometheus and Alertmanager scripts/test starts (SETPOINT_TEST_PROMETHEUS_*, SETPOINT_TEST_ALERTMANAGER_*), a
/// manifest folder and a state file of the test's own; the CLI runs in-process with the monitoring provider. Group
/// names carry a per-test suffix; `stop()` removes the test's rule files and reloads.
final class MonitoringEnv: Sendable {
    static let environment = ProcessInfo.processInfo.environment
    static var enabled: Bool { environment["SETPOINT_TEST_PROMETHEUS_URL"] != nil || ExternalTool.isCI }

    let dir: String
    let tag: String
    let prometheus: String
    let rules: String
    let alertmanager: String
    let alertmanagerConfig: String
    var manifests: String { dir + "/m" }
    var state: String { dir + "/state.db" }

    init() throws {
        prometheus = try #require(
            Self.environment["SETPOINT_TEST_PROMETHEUS_URL"],
            "run the tests through scripts/test, which starts Prometheus"
        )
        rules = try #require(Self.environment["SETPOINT_TEST_PROMETHEUS_RULES"])
        alertmanager = try #require(
            Self.environment["SETPOINT_TEST_ALERTMANAGER_URL"],
            "scripts/test starts Alertmanager"
        )
        alertmanagerConfig = try #require(Self.environment["SETPOINT_TEST_ALERTMANAGER_CONFIG"])
        tag = String(UUID().uuidString.prefix(6).lowercased())
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("setpoint-mon-\(tag)").path
        try FileManager.default.createDirectory(atPath: dir + "/m", withIntermediateDirectories: true)
    }

    static func with(_ body: (MonitoringEnv) async throws -> Void) async throws {
        let env = try MonitoringEnv()
        do {
            try await body(env)
            await env.stop()
        } catch {
            await env.stop()
            throw error
        }
    }

    func stop() async {
        for f in (try? FileManager.default.contentsOfDirectory(atPath: rules)) ?? [] where f.contains(tag) {
            try? FileManager.default.removeItem(atPath: "\(rules)/\(f)")
        }
        _ = try? await post(prometheus + "/-/reload")
        try? FileManager.default.removeItem(atPath: dir)
    }

    func group(_ name: String) -> String { "\(name)-\(tag)" }

    var serverYAML: String {
        """
        apiVersion: setpoint/v1
        kind: PrometheusServer
        metadata: {name: prom}
        spec:
          url: \(prometheus)
          rulesDirectory: \(rules)

        """
    }

    /// An AlertRuleGroup; each rule is (alert name, expr, for).
    func groupYAML(_ name: String, rules: [(String, String, String?)]) -> String {
        var text = """
            apiVersion: setpoint/v1
            kind: AlertRuleGroup
            metadata: {name: \(group(name))}
            spec:
              prometheus: prom
              interval: 1s
              rules:

            """
        for (alert, expr, wait) in rules {
            text += "    - alert: \(alert)\n      expr: '\(expr)'\n"
            if let wait { text += "      for: \(wait)\n" }
            text +=
                "      labels: {severity: page, test: \"\(tag)\"}\n      annotations: {summary: \"\(alert) fired\", runbook_url: \"docs/runbooks/x.md\"}\n"
        }
        return text
    }

    func write(_ documents: [String]) throws {
        try documents.joined(separator: "---\n").write(
            toFile: manifests + "/monitoring.yaml",
            atomically: false,
            encoding: .utf8
        )
    }

    func run(
        _ args: [String],
        withState: Bool = true,
        slackURL: String = "https://hooks.slack.invalid/T000/B000/XXXXSECRET"
    ) async
        -> (code: Int32, out: String, err: String)
    {
        let console = Console.capturing()
        let runtime = CLIRuntime(
            providers: [PrometheusProvider()],
            secrets: EnvironmentSecretResolver(environment: ["SLACK_URL": slackURL])
        )
        let code = await SetpointCLI.run(
            args + (withState ? ["--state", state] : []),
            console: console,
            runtime: runtime
        )
        return (code, console.capturedOut, console.capturedErr)
    }

    @discardableResult
    func apply(expect: Int32 = 0, sourceLocation: Testing.SourceLocation = #_sourceLocation) async -> String {
        let r = await run(["apply", manifests, "--auto-approve"])
        #expect(r.code == expect, "apply exited \(r.code):\n\(r.out)\(r.err)", sourceLocation: sourceLocation)
        return r.out + r.err
    }

    func plan() async -> (code: Int32, text: String) {
        let r = await run(["plan", manifests, "--detailed-exitcode"])
        return (r.code, r.out + r.err)
    }

    static let http = HTTPClient(connections: 2)

    func post(_ url: String) async throws -> Int {
        try await Self.http.send(HTTPRequest(method: "POST", url: url)).status
    }

    func getJSON(_ url: String) async throws -> [String: Any] {
        let r = try await Self.http.send(HTTPRequest(url: url))
        return (try? JSONSerialization.jsonObject(with: r.body) as? [String: Any]) ?? [:]
    }

    /// `/api/v1/rules`: group name → [(rule name, duration seconds)].
    func loaded() async throws -> [String: [(String, Double)]] {
        let o = try await getJSON(prometheus + "/api/v1/rules")
        var out: [String: [(String, Double)]] = [:]
        for g in ((o["data"] as? [String: Any])?["groups"] as? [[String: Any]]) ?? [] {
            out[g["name"] as? String ?? ""] = ((g["rules"] as? [[String: Any]]) ?? []).map {
                ($0["name"] as? String ?? "", $0["duration"] as? Double ?? 0)
            }
        }
        return out
    }
}

/// A loopback HTTP listener (python3's http.server) that records every POST body in a file: the webhook receiver.
final class WebhookRecorder: Sendable {
    let process: ChildProcess
    let port: Int
    let file: String

    init() async throws {
        file = FileManager.default.temporaryDirectory.appendingPathComponent("webhook-\(UUID().uuidString).log").path
        FileManager.default.createFile(atPath: file, contents: nil)
        let script = """
            import http.server, sys
            class H(http.server.BaseHTTPRequestHandler):
                def do_POST(self):
                    body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
                    with open(sys.argv[1], 'ab') as f: f.write(body + b'\\n')
                    self.send_response(200); self.end_headers()
                def log_message(self, *a): pass
            s = http.server.HTTPServer(('127.0.0.1', 0), H)
            print(s.server_address[1], flush=True)
            s.serve_forever()
            """
        process = try ChildProcess.start(["python3", "-c", script, file])
        _ = await process.stdout.waitFor("\n", seconds: 20)
        let line = process.stdout.value.trimmingCharacters(in: .whitespacesAndNewlines)
        port = try #require(Int(line), "the webhook listener did not start: \(process.output.value)")
    }

    var received: String { (try? String(contentsOfFile: file, encoding: .utf8)) ?? "" }

    func stop() {
        process.signal(SIGKILL)
        try? FileManager.default.removeItem(atPath: file)
    }
}
