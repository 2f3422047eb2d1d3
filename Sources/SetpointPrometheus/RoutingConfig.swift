import Foundation
import SetpointCore

/// An AlertRouting as Alertmanager's configuration file (secrets resolved into it: the file is written 0600, or with
/// the mode and owner of the file it replaces), and Alertmanager's running configuration read back into the
/// manifest's shape.
enum RoutingConfig {
    static func duration(_ d: DurationValue?) -> YAMLNode? {
        d.map { .scalar(DurationValue(milliseconds: $0.milliseconds).description) }
    }

    static func render(
        _ name: String,
        spec: AlertRoutingSpec,
        secret: (SecretReference, String) throws -> String
    ) throws -> String {
        var root: [(String, YAMLNode)] = []
        if let g = spec.global {
            var m: [(String, YAMLNode)] = []
            if let d = duration(g.resolveTimeout) { m.append(("resolve_timeout", d)) }
            if let s = g.smtpSmarthost { m.append(("smtp_smarthost", .string(s))) }
            if let s = g.smtpFrom { m.append(("smtp_from", .string(s))) }
            if !m.isEmpty { root.append(("global", .map(m))) }
        }
        root.append(("route", route(spec.route)))
        root.append(
            (
                "receivers",
                .list(try spec.receivers.enumerated().map { i, r in try receiver(r, index: i, secret: secret) })
            )
        )
        if let rules = spec.inhibitRules, !rules.isEmpty {
            root.append(
                (
                    "inhibit_rules",
                    .list(
                        rules.map { r in
                            var m: [(String, YAMLNode)] = [
                                ("source_matchers", .list(r.sourceMatchers.map(YAMLNode.string))),
                                ("target_matchers", .list(r.targetMatchers.map(YAMLNode.string))),
                            ]
                            if let e = r.equal { m.append(("equal", .list(e.map(YAMLNode.string)))) }
                            return .map(m)
                        }
                    )
                )
            )
        }
        return
            "# Managed by Setpoint (AlertRouting/\(name)): the next apply rewrites this file; change the manifest instead.\n"
            + YAMLNode.map(root).text(indent: 0) + "\n"
    }

    static func route(_ r: AlertRoutingSpec.Route) -> YAMLNode {
        var m: [(String, YAMLNode)] = []
        if let v = r.receiver { m.append(("receiver", .string(v))) }
        if let v = r.matchers { m.append(("matchers", .list(v.map(YAMLNode.string)))) }
        if let v = r.groupBy { m.append(("group_by", .list(v.map(YAMLNode.string)))) }
        if let v = duration(r.groupWait) { m.append(("group_wait", v)) }
        if let v = duration(r.groupInterval) { m.append(("group_interval", v)) }
        if let v = duration(r.repeatInterval) { m.append(("repeat_interval", v)) }
        if let v = r.continue { m.append(("continue", .scalar(String(v)))) }
        if let v = r.routes, !v.isEmpty { m.append(("routes", .list(v.map(route)))) }
        return .map(m)
    }

    static func receiver(
        _ r: AlertRoutingSpec.Receiver,
        index: Int,
        secret: (SecretReference, String) throws -> String
    ) throws -> YAMLNode {
        let at = "spec.receivers[\(index)]"
        var m: [(String, YAMLNode)] = [("name", .string(r.name))]
        func bool(_ b: Bool?) -> YAMLNode? { b.map { .scalar(String($0)) } }
        if let list = r.email, !list.isEmpty {
            m.append(
                (
                    "email_configs",
                    .list(
                        try list.enumerated().map { j, e in
                            var c: [(String, YAMLNode)] = [("to", .string(e.to))]
                            if let v = e.from { c.append(("from", .string(v))) }
                            if let v = e.smarthost { c.append(("smarthost", .string(v))) }
                            if let v = e.authUsername { c.append(("auth_username", .string(v))) }
                            if let v = e.authPassword {
                                c.append(("auth_password", .string(try secret(v, "\(at).email[\(j)].authPassword"))))
                            }
                            if let v = bool(e.requireTLS) { c.append(("require_tls", v)) }
                            if let v = bool(e.sendResolved) { c.append(("send_resolved", v)) }
                            return .map(c)
                        }
                    )
                )
            )
        }
        if let list = r.webhook, !list.isEmpty {
            m.append(
                (
                    "webhook_configs",
                    .list(
                        try list.enumerated().map { j, w in
                            var c: [(String, YAMLNode)] = []
                            if let v = w.url { c.append(("url", .string(v))) }
                            if let v = w.urlSecret {
                                c.append(("url", .string(try secret(v, "\(at).webhook[\(j)].urlSecret"))))
                            }
                            c.append(("send_resolved", .scalar(String(w.sendResolved ?? true))))
                            if let v = w.maxAlerts { c.append(("max_alerts", .scalar(String(v)))) }
                            return .map(c)
                        }
                    )
                )
            )
        }
        if let list = r.slack, !list.isEmpty {
            m.append(
                (
                    "slack_configs",
                    .list(
                        try list.enumerated().map { j, s in
                            var c: [(String, YAMLNode)] = [
                                ("api_url", .string(try secret(s.apiURL, "\(at).slack[\(j)].apiURL")))
                            ]
                            if let v = s.channel { c.append(("channel", .string(v))) }
                            if let v = s.title { c.append(("title", .string(v))) }
                            if let v = s.text { c.append(("text", .string(v))) }
                            if let v = bool(s.sendResolved) { c.append(("send_resolved", v)) }
                            return .map(c)
                        }
                    )
                )
            )
        }
        if let list = r.pagerduty, !list.isEmpty {
            m.append(
                (
                    "pagerduty_configs",
                    .list(
                        try list.enumerated().map { j, p in
                            var c: [(String, YAMLNode)] = [
                                ("routing_key", .string(try secret(p.routingKey, "\(at).pagerduty[\(j)].routingKey")))
                            ]
                            if let v = p.severity { c.append(("severity", .string(v))) }
                            if let v = bool(p.sendResolved) { c.append(("send_resolved", v)) }
                            return .map(c)
                        }
                    )
                )
            )
        }
        return .map(m)
    }

    // MARK: reading Alertmanager's configuration back

    /// Alertmanager's running configuration (`config.original`) in the manifest's shape; secrets come back as
    /// `<secret>` and are compared by the fingerprint of what was applied.
    static func shape(_ live: Value) -> [String: Value] {
        var out: [String: Value] = [:]
        if case .map(let g)? = live["global"] {
            var m: [String: Value] = [:]
            if let v = YAMLValues.milliseconds(g["resolve_timeout"]) { m["resolveTimeout"] = .int(v) }
            if let v = g["smtp_smarthost"]?.stringValue { m["smtpSmarthost"] = .string(v) }
            if let v = g["smtp_from"]?.stringValue { m["smtpFrom"] = .string(v) }
            out["global"] = .map(m)
        }
        if let r = live["route"] { out["route"] = route(r) }
        if case .list(let receivers)? = live["receivers"] { out["receivers"] = .list(receivers.map(receiver)) }
        if case .list(let rules)? = live["inhibit_rules"] {
            out["inhibitRules"] = .list(
                rules.map { r in
                    var m: [String: Value] = [:]
                    if let v = r["source_matchers"] { m["sourceMatchers"] = matchers(v) }
                    if let v = r["target_matchers"] { m["targetMatchers"] = matchers(v) }
                    if let v = r["equal"] { m["equal"] = v }
                    return .map(m)
                }
            )
        }
        return out
    }

    static func route(_ r: Value) -> Value {
        var m: [String: Value] = [:]
        if let v = r["receiver"]?.stringValue { m["receiver"] = .string(v) }
        if let v = r["matchers"] { m["matchers"] = matchers(v) }
        if let v = r["group_by"] { m["groupBy"] = v }
        if let v = YAMLValues.milliseconds(r["group_wait"]) { m["groupWait"] = .int(v) }
        if let v = YAMLValues.milliseconds(r["group_interval"]) { m["groupInterval"] = .int(v) }
        if let v = YAMLValues.milliseconds(r["repeat_interval"]) { m["repeatInterval"] = .int(v) }
        if let v = r["continue"]?.stringValue { m["continue"] = .bool(v == "true") }
        if case .list(let children)? = r["routes"] { m["routes"] = .list(children.map(route)) }
        return .map(m)
    }

    static func receiver(_ r: Value) -> Value {
        var m: [String: Value] = ["name": r["name"] ?? .string("")]
        func bool(_ v: Value?) -> Value? { v?.stringValue.map { .bool($0 == "true") } }
        func configs(_ key: String, _ map: (Value) -> [String: Value]) -> Value? {
            guard case .list(let l)? = r[key] else { return nil }
            return .list(l.map { .map(map($0)) })
        }
        m["email"] = configs("email_configs") { c in
            var o: [String: Value] = [:]
            for (k, name) in [
                ("to", "to"), ("from", "from"), ("smarthost", "smarthost"), ("auth_username", "authUsername"),
                ("auth_password", "authPassword"),
            ] {
                if let v = c[k]?.stringValue { o[name] = .string(v) }
            }
            o["requireTLS"] = bool(c["require_tls"])
            o["sendResolved"] = bool(c["send_resolved"])
            return o
        }
        m["webhook"] = configs("webhook_configs") { c in
            var o: [String: Value] = [:]
            if let v = c["url"]?.stringValue {
                o["url"] = .string(v)
                o["urlSecret"] = .string(v)
            }
            o["sendResolved"] = bool(c["send_resolved"])
            if let v = c["max_alerts"]?.stringValue.flatMap(Int64.init) { o["maxAlerts"] = .int(v) }
            return o
        }
        m["slack"] = configs("slack_configs") { c in
            var o: [String: Value] = [:]
            for (k, name) in [("api_url", "apiURL"), ("channel", "channel"), ("title", "title"), ("text", "text")] {
                if let v = c[k]?.stringValue { o[name] = .string(v) }
            }
            o["sendResolved"] = bool(c["send_resolved"])
            return o
        }
        m["pagerduty"] = configs("pagerduty_configs") { c in
            var o: [String: Value] = [:]
            if let v = c["routing_key"]?.stringValue { o["routingKey"] = .string(v) }
            if let v = c["severity"]?.stringValue { o["severity"] = .string(v) }
            o["sendResolved"] = bool(c["send_resolved"])
            return o
        }
        return .map(m.filter { $0.value != .null })
    }

    /// Matchers in one form: `name="value"` (Alertmanager prints them quoted whatever was written).
    static func matchers(_ v: Value) -> Value {
        guard case .list(let l) = v else { return v }
        return .list(l.map { .string(canonicalMatcher($0.stringValue ?? "")) })
    }

    static func canonicalMatcher(_ text: String) -> String {
        let t = text.trimmingCharacters(in: .whitespaces)
        for op in ["=~", "!~", "!=", "="] {
            guard let r = t.range(of: op) else { continue }
            let name = t[..<r.lowerBound].trimmingCharacters(in: .whitespaces)
            var value = t[r.upperBound...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
                value = String(value.dropFirst().dropLast()).replacingOccurrences(of: "\\\"", with: "\"")
            }
            return name + op + "\"" + value.replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        return t
    }

    /// The live configuration cut to the keys the manifest sets (so Alertmanager's defaults do not show as changes),
    /// element by element; a secret in the manifest stands where Alertmanager shows `<secret>`.
    /// Keys the last apply had and the manifest no longer has are kept too, so that removing them plans a change.
    static func project(_ live: Value?, onto desired: Value, also applied: Value? = nil) -> Value? {
        guard let live else { return nil }
        switch (live, desired) {
        case (.map(let l), .map(let d)):
            var out: [String: Value] = [:]
            let a: [String: Value] = { if case .map(let m)? = applied { return m } else { return [:] } }()
            for k in Set(d.keys).union(a.keys) {
                guard let shape = d[k] ?? a[k], let p = project(l[k], onto: shape, also: a[k]) else { continue }
                out[k] = p
            }
            return .map(out)
        case (.list(let l), .list(let d)):
            let a: [Value] = { if case .list(let x)? = applied { return x } else { return [] } }()
            return .list(
                l.enumerated().map { i, item in
                    let shape = i < d.count ? d[i] : (i < a.count ? a[i] : nil)
                    return shape.flatMap { project(item, onto: $0, also: i < a.count ? a[i] : nil) } ?? item
                }
            )
        case (_, .secret):
            return desired
        case (.string(let s), .string(let t)) where canonicalMatcher(s) == canonicalMatcher(t) && s.contains("="):
            return desired
        default:
            return live
        }
    }
}
