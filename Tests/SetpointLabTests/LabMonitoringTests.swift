import Foundation
import SetpointTesting
import Testing

/// Prometheus and Alertmanager on a lab host of their own (h5): an AlertRuleGroup's file and AlertRouting's
/// configuration written there as the services' user, promtool and amtool run there, and both proved loaded through
/// their HTTP APIs from the ops namespace.
@Suite(.timeLimit(.minutes(3)), .serialized) struct LabMonitoringTests {
    /// Prometheus and Alertmanager on h5, started unless they answer.
    static func monitoring(_ lab: Lab) async throws {
        let ready = try await lab.lab(["ops", "curl", "-sf", "http://\(lab.host("h5").address):9090/-/ready"])
        guard ready.status != 0 else { return }
        let started = try await lab.lab(["monitoring", "h5"])
        guard started.status == 0 else { throw LabFailure("scripts/lab monitoring h5: \(started.stderr)") }
    }

    /// The rule groups Prometheus on h5 has loaded (`/api/v1/rules`), as its JSON text.
    static func rules(_ lab: Lab) async throws -> String {
        try await lab.lab(["ops", "curl", "-sf", "http://\(lab.host("h5").address):9090/api/v1/rules"]).stdout
    }

    @Test func aControllerAppliesOnTheMonitoringHostAndOutlivesItsDeath() async throws {
        guard let lab = try Lab.current() else { return }
        try await Self.monitoring(lab)
        let dir = try Lab.workspace("controller")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let address = lab.host("h5").address
        func write(_ expr: String) throws {
            try
                (lab.hostsYAML(["h5"]) + """
                    ---
                    apiVersion: setpoint/v1
                    kind: PrometheusServer
                    metadata: {name: prom}
                    spec: {runsOn: h5, url: "http://\(address):9090", rulesDirectory: /etc/prometheus/rules}
                    ---
                    apiVersion: setpoint/v1
                    kind: AlertRuleGroup
                    metadata: {name: ctl}
                    spec:
                      prometheus: prom
                      rules:
                        - alert: LabControlled
                          expr: '\(expr)'
                          labels: {severity: ticket}
                          annotations: {summary: "controlled", runbook_url: "docs/runbooks/x.md"}

                    """).write(toFile: dir + "/ctl.yaml", atomically: true, encoding: .utf8)
        }
        func loaded(_ needle: String, within seconds: Int) async throws -> Bool {
            // Prometheus prints the query in its JSON with > as \u003e: look for its start.
            for _ in 0..<(seconds * 4) {
                if try await Self.rules(lab).contains(needle) { return true }
                try await Task.sleep(for: .milliseconds(250))
            }
            return false
        }
        try write("vector(2) > 0")
        let controller = try ChildProcess.start(
            [lab.script, "ops", Lab.setpoint, "controller", "ctl.yaml", "--interval", "1s", "--listen", "127.0.0.1:0"],
            environment: lab.environment,
            workingDirectory: dir
        )
        defer { controller.signal(SIGKILL) }
        #expect(try await loaded("vector(2)", within: 30), "the controller wrote and loaded the group on h5")

        // h5 dies (every process of it: sshd, Prometheus, Alertmanager); passes fail, the controller stays.
        _ = try await lab.lab(["kill", "h5"])
        try await Task.sleep(for: .seconds(4))
        #expect(controller.isRunning, "the controller survives its host's death: \(controller.output.value)")
        // h5 back (sshd, then its services), and a change: applied through a new connection.
        _ = try await lab.lab(["heal", "h5"])
        try await Self.monitoring(lab)
        try write("vector(3) > 0")
        #expect(try await loaded("vector(3)", within: 60), "applied after h5 came back: \(controller.output.value)")
        #expect(controller.isRunning)
        controller.terminate()
        #expect(await controller.exitStatus() == 0, "\(controller.output.value)")
    }

    @Test func rulesAndRoutingAreWrittenCheckedAndLoadedOnTheMonitoringHost() async throws {
        guard let lab = try Lab.current() else { return }
        let dir = try Lab.workspace("monitoring")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await Self.monitoring(lab)
        let address = lab.host("h5").address
        func write(expr: String) throws {
            let text =
                lab.hostsYAML(["h5"]) + """
                    ---
                    apiVersion: setpoint/v1
                    kind: PrometheusServer
                    metadata: {name: prom}
                    spec:
                      runsOn: h5
                      url: http://\(address):9090
                      rulesDirectory: /etc/prometheus/rules
                    ---
                    apiVersion: setpoint/v1
                    kind: AlertRuleGroup
                    metadata: {name: lab-db}
                    spec:
                      prometheus: prom
                      interval: 1s
                      rules:
                        - alert: LabReplicaLag
                          expr: '\(expr)'
                          labels: {severity: page}
                          annotations: {summary: "lag", runbook_url: "docs/runbooks/x.md"}
                    ---
                    apiVersion: setpoint/v1
                    kind: AlertRouting
                    metadata: {name: main}
                    spec:
                      alertmanager:
                        runsOn: h5
                        url: http://\(address):9093
                        configFile: /etc/alertmanager/alertmanager.yml
                      receivers:
                        - name: "null"
                        - name: hook
                          webhook:
                            - url: http://\(lab.host("h1").address):9999/alerts
                      route:
                        receiver: "null"
                        routes:
                          - receiver: hook
                            matchers: ['severity="page"']

                    """
            try text.write(toFile: dir + "/monitoring.yaml", atomically: true, encoding: .utf8)
        }
        try write(expr: "vector(1) > 0")
        let applied = try await lab.setpoint(["apply", "monitoring.yaml", "--auto-approve"], in: dir)
        try #require(applied.status == 0, "apply: \(applied.stdout)\(applied.stderr)")

        // Loaded, as the servers' HTTP APIs say (asked from the ops namespace).
        let rules = try await lab.lab(["ops", "curl", "-sf", "http://\(address):9090/api/v1/rules"])
        #expect(rules.stdout.contains("\"name\":\"LabReplicaLag\""), "\(rules.stdout)")
        #expect(rules.stdout.contains("/etc/prometheus/rules/setpoint-lab-db.yml"), "\(rules.stdout)")
        let status = try await lab.lab(["ops", "curl", "-sf", "http://\(address):9093/api/v2/status"])
        #expect(status.stdout.contains("hook") && status.stdout.contains(":9999/alerts"), "\(status.stdout)")
        // Written on h5 as its owner (prometheus), the configuration private; nothing of it on the ops side.
        let owners = try await lab.on(
            "h5",
            ["stat", "-c", "%U %a", "/etc/prometheus/rules/setpoint-lab-db.yml", "/etc/alertmanager/alertmanager.yml"]
        )
        #expect(owners == "prometheus 644\nprometheus 600\n", "\(owners)")
        #expect(!FileManager.default.fileExists(atPath: "/etc/prometheus/rules/setpoint-lab-db.yml"))
        let replan = try await lab.setpoint(["plan", "monitoring.yaml", "--detailed-exitcode"], in: dir)
        #expect(replan.status == 0, "re-plan: \(replan.stdout)\(replan.stderr)")

        // promtool on h5 refuses a broken rule before anything is written there.
        try write(expr: "vector(1) >")
        let refused = try await lab.setpoint(["apply", "monitoring.yaml", "--auto-approve"], in: dir)
        #expect(refused.status == 1, "\(refused.stdout)\(refused.stderr)")
        let file = try await lab.on("h5", ["cat", "/etc/prometheus/rules/setpoint-lab-db.yml"])
        #expect(file.contains("vector(1) > 0"), "the file on h5 is unchanged: \(file)")
    }
}
