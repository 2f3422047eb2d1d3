import SetpointCore
import Testing

@testable import SetpointPrometheus

/// `AlertRouting`'s tables: one row per schema field of each object, and a configuration written from the rows reads
/// back as the manifest (secrets as their values, matchers in Alertmanager's quoted form).
@Suite(.timeLimit(.minutes(1))) struct RoutingFieldsTests {
    @Test func everySchemaFieldHasExactlyOneRow() {
        let pairs: [(String, RoutingFields.Table, ObjectSchema)] = [
            ("spec", RoutingFields.root, AlertRoutingKind.spec),
            ("global", RoutingFields.global, AlertRoutingKind.global),
            ("route", RoutingFields.route, AlertRoutingKind.routeSchema),
            ("receiver", RoutingFields.receiver, AlertRoutingKind.receiver),
            ("email", RoutingFields.email, AlertRoutingKind.email),
            ("webhook", RoutingFields.webhook, AlertRoutingKind.webhook),
            ("slack", RoutingFields.slack, AlertRoutingKind.slack),
            ("pagerduty", RoutingFields.pagerduty, AlertRoutingKind.pagerduty),
            ("inhibitRule", RoutingFields.inhibitRule, AlertRoutingKind.inhibitRule),
        ]
        for (name, table, schema) in pairs {
            let c = table.coverage(of: schema)
            #expect(c.missing.isEmpty && c.unknown.isEmpty && c.duplicated.isEmpty, "\(name): \(c)")
        }
    }

    @Test func aConfigurationReadsBackAsTheManifest() throws {
        let spec: Value = .map([
            "global": .map(["resolveTimeout": .int(300_000), "smtpFrom": .string("am@example.net")]),
            "route": .map([
                "receiver": .string("ops"), "groupBy": .list([.string("alertname")]), "groupWait": .int(30_000),
                "routes": .list([
                    .map([
                        "receiver": .string("pager"), "matchers": .list([.string("severity=critical")]),
                        "continue": .bool(true), "repeatInterval": .int(3_600_000),
                    ])
                ]),
            ]),
            "receivers": .list([
                .map([
                    "name": .string("ops"),
                    "webhook": .list([.map(["url": .string("http://127.0.0.1:9/hook"), "maxAlerts": .int(5)])]),
                    "email": .list([
                        .map([
                            "to": .string("ops@example.net"), "authPassword": .secret(.env("SMTP")),
                            "requireTLS": .bool(true),
                        ])
                    ]),
                ]),
                .map([
                    "name": .string("pager"),
                    "pagerduty": .list([.map(["routingKey": .secret(.env("PD")), "severity": .string("critical")])]),
                ]),
            ]),
            "inhibitRules": .list([
                .map([
                    "sourceMatchers": .list([.string("severity=critical")]),
                    "targetMatchers": .list([.string("severity=\"warning\"")]), "equal": .list([.string("cluster")]),
                ])
            ]),
        ])
        var asked: [String] = []
        let text = try RoutingConfig.render("main", spec: spec) { ref, path in
            asked.append(path)
            return "value-of-\(ref)"
        }
        #expect(asked == ["spec.receivers[0].email[0].authPassword", "spec.receivers[1].pagerduty[0].routingKey"])
        #expect(text.contains("send_resolved: true"), "the webhook's default is written: \(text)")
        let live = try #require(YAMLValues.parse(text, file: "alertmanager.yml"))
        let read = Value.map(RoutingConfig.shape(live))
        // What it should read as: secrets by value, matchers quoted, the webhook's written default.
        let projected = try #require(RoutingConfig.project(read, onto: spec))
        // allowPlaintextAuth is Setpoint's, not Alertmanager's: observed as declared, or every plan would change it.
        #expect(projected["receivers"]?[0]?["email"]?[0]?["allowPlaintextAuth"] == nil)
        let expected = RoutingFields.carryingUnwritten(projected, from: spec, RoutingFields.root)
        #expect(read["route"]?["routes"]?[0]?["matchers"] == .list([.string("severity=\"critical\"")]))
        #expect(
            read["receivers"]?[1]?["pagerduty"]?[0]?["routingKey"] == .string("value-of-\(SecretReference.env("PD"))")
        )
        #expect(read["receivers"]?[0]?["webhook"]?[0]?["sendResolved"] == .bool(true))
        #expect(expected == spec, "projected onto the manifest, the file is the manifest")
    }
}

extension Value {
    fileprivate subscript(_ index: Int) -> Value? {
        if case .list(let l) = self, index < l.count { return l[index] }
        return nil
    }
}
