import Foundation
import Testing

/// AlertRouting on the real Alertmanager scripts/test starts, fed by its Prometheus: a firing rule reaches the webhook
/// receiver the routing declares.
extension MonitoringTests {
    @Suite struct AlertRoutingTests {
        func routingYAML(
            _ env: MonitoringEnv,
            hookPort: Int,
            repeatInterval: String = "1h",
            childGroupWait: Bool = true,
            criticalMatcher: String = "severity=critical"
        ) -> String {
            """
            apiVersion: setpoint/v1
            kind: AlertRouting
            metadata: {name: main}
            spec:
              alertmanager:
                url: \(env.alertmanager)
                configFile: \(env.alertmanagerConfig)
              global:
                resolveTimeout: 5m
              receivers:
                - name: "null"
                - name: hook
                  webhook:
                    - url: http://127.0.0.1:\(hookPort)/alerts
                - name: chat
                  slack:
                    - apiURL: {env: SLACK_URL}
                      channel: "#ops"
              route:
                receiver: "null"
                groupBy: [alertname]
                groupWait: 1s
                groupInterval: 1s
                repeatInterval: \(repeatInterval)
                routes:
                  - receiver: hook
                    matchers: ['test="\(env.tag)"']
            \(childGroupWait ? "        groupWait: 1s" : "")
                  - receiver: chat
                    matchers: ['\(criticalMatcher)']

            """
        }

        @Test func aRotatedSecretARemovedKeyAndAnAmtoolRefusalAreAllSeen() async throws {
            try await MonitoringEnv.with { env in
                try env.write([env.serverYAML, routingYAML(env, hookPort: 9)])
                await env.apply()
                #expect(await env.plan().code == 0)
                // The Slack URL behind the same reference changes: a (sensitive) change, never shown.
                let rotated = await env.run(
                    ["plan", env.manifests, "--detailed-exitcode"],
                    slackURL: "https://hooks.slack.invalid/T000/B000/ROTATED"
                )
                #expect(
                    rotated.code == 2 && rotated.out.contains("receivers") && !rotated.out.contains("ROTATED"),
                    "\(rotated.out)\(rotated.err)"
                )
                #expect(!(rotated.out + rotated.err).contains("edited by hand"), "a rotation is not a hand edit")
                // A key removed from the manifest is removed from Alertmanager.
                try env.write([env.serverYAML, routingYAML(env, hookPort: 9, childGroupWait: false)])
                let removed = await env.plan()
                #expect(removed.code == 2 && removed.text.contains("route"), "\(removed.text)")
                await env.apply()
                #expect(await env.plan().code == 0)
                // amtool's own reason is quoted at validate time.
                try env.write([env.serverYAML, routingYAML(env, hookPort: 9, criticalMatcher: "severity=~\"[(\"")])
                let bad = await env.run(["validate", env.manifests], withState: false)
                #expect(
                    bad.code == 1 && (bad.out + bad.err).contains(all: ["SP1022", "amtool check-config", "regexp"]),
                    "\(bad.out)\(bad.err)"
                )
            }
        }

        @Test func aFiringRuleReachesTheWebhookTheRoutingDeclaresAndReplanIsEmpty() async throws {
            try await MonitoringEnv.with { env in
                let hook = try await WebhookRecorder()
                defer { hook.stop() }
                try env.write([
                    env.serverYAML, routingYAML(env, hookPort: hook.port),
                    env.groupYAML("always", rules: [("AlwaysFiring", "vector(1)", nil)]),
                ])
                let out = await env.apply()
                #expect(!out.contains("XXXXSECRET"), "a secret never appears in output")
                let again = await env.plan()
                #expect(again.code == 0, "\(again.text)")
                let config = try String(contentsOfFile: env.alertmanagerConfig, encoding: .utf8)
                #expect(config.contains("XXXXSECRET"), "the secret is resolved into the file Alertmanager reads")
                let attributes = try FileManager.default.attributesOfItem(atPath: env.alertmanagerConfig)
                #expect(
                    (attributes[.posixPermissions] as? Int).map { $0 & 0o007 } == 0,
                    "a file holding secrets is not readable by others"
                )

                var received = ""
                for _ in 0..<300 where !received.contains("AlwaysFiring") {
                    try await Task.sleep(for: .milliseconds(100))
                    received = hook.received
                }
                #expect(
                    received.contains("AlwaysFiring") && received.contains(env.tag),
                    "the webhook got the alert: \(received)"
                )

                // A change in place: Alertmanager runs it after apply.
                try env.write([
                    env.serverYAML, routingYAML(env, hookPort: hook.port, repeatInterval: "2h"),
                    env.groupYAML("always", rules: [("AlwaysFiring", "vector(1)", nil)]),
                ])
                let plan = await env.plan()
                #expect(plan.code == 2 && plan.text.contains("route.repeatInterval"), "\(plan.text)")
                await env.apply()
                let status = try await env.getJSON(env.alertmanager + "/api/v2/status")
                let original = ((status["config"] as? [String: Any])?["original"] as? String) ?? ""
                #expect(original.contains("repeat_interval: 2h"), "\(original)")
                #expect(!original.contains("XXXXSECRET"), "Alertmanager masks the secret")
                #expect(await env.plan().code == 0)
            }
        }
    }
}
