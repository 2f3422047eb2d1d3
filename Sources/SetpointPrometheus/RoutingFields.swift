import SetpointCore

/// `AlertRouting`'s fields as Alertmanager's configuration file holds them: one table per object of the manifest
/// (global settings, a route, a receiver and each of its notifier configurations, an inhibit rule), each row naming the
/// file's key and how the value is written and read back. The file Setpoint writes and the running configuration read
/// into the manifest's shape both come from the rows.
enum RoutingFields {
    typealias Table = FieldTable<Field>

    indirect enum Codec: Sendable {
        case text
        /// Milliseconds in the manifest, an Alertmanager duration (`5m`) in the file.
        case duration
        case count
        case flag
        /// A list of strings.
        case texts
        /// Matchers: written as given, read in the quoted form Alertmanager prints whatever was written.
        case matchers
        /// A secret reference: its value is written (the file is 0600); Alertmanager shows `<secret>`.
        case secret
        /// An object of another table; `omitEmpty` leaves it out of the file when none of its fields is set.
        case object(@Sendable () -> Table, omitEmpty: Bool)
        /// A list of objects of another table, left out of the file when empty.
        case objects(@Sendable () -> Table)
    }

    struct Field: Sendable {
        /// The configuration file's key; empty for a field of Setpoint's own that the file does not hold (where the
        /// Alertmanager is, an opt-in checked at plan time): observed as declared.
        var key: String
        var codec: Codec
        /// Written when the manifest leaves the field out (Setpoint's default, stated in the file).
        var written: Value?

        init(_ key: String, _ codec: Codec = .text, written: Value? = nil) {
            self.key = key
            self.codec = codec
            self.written = written
        }
    }

    static let root: Table = Table(rows: [
        .init("alertmanager", Field("", .text), comparison: .ignore, coversFields: true),
        .init("global", Field("global", .object({ global }, omitEmpty: true)), coversFields: true),
        .init("route", Field("route", .object({ route }, omitEmpty: false)), coversFields: true),
        .init("receivers", Field("receivers", .objects({ receiver }))),
        .init("inhibitRules", Field("inhibit_rules", .objects({ inhibitRule }))),
    ])

    static let global: Table = Table(rows: [
        .init("resolveTimeout", Field("resolve_timeout", .duration)),
        .init("smtpSmarthost", Field("smtp_smarthost")),
        .init("smtpFrom", Field("smtp_from")),
    ])

    static let route: Table = Table(rows: [
        .init("receiver", Field("receiver")),
        .init("matchers", Field("matchers", .matchers)),
        .init("groupBy", Field("group_by", .texts)),
        .init("groupWait", Field("group_wait", .duration)),
        .init("groupInterval", Field("group_interval", .duration)),
        .init("repeatInterval", Field("repeat_interval", .duration)),
        .init("continue", Field("continue", .flag)),
        .init("routes", Field("routes", .objects({ route }))),
    ])

    static let receiver: Table = Table(rows: [
        .init("name", Field("name")),
        .init("email", Field("email_configs", .objects({ email }))),
        .init("webhook", Field("webhook_configs", .objects({ webhook }))),
        .init("slack", Field("slack_configs", .objects({ slack }))),
        .init("pagerduty", Field("pagerduty_configs", .objects({ pagerduty }))),
    ])

    static let email: Table = Table(rows: [
        .init("to", Field("to")),
        .init("from", Field("from")),
        .init("smarthost", Field("smarthost")),
        .init("authUsername", Field("auth_username")),
        .init("authPassword", Field("auth_password", .secret)),
        .init("requireTLS", Field("require_tls", .flag)),
        // Setpoint's opt-in to a password over plain SMTP (checked at plan time): not in Alertmanager's file.
        .init("allowPlaintextAuth", Field("", .flag)),
        .init("sendResolved", Field("send_resolved", .flag)),
    ])

    /// `url` and `urlSecret` are the same key: a URL that holds a token is given by reference.
    static let webhook: Table = Table(rows: [
        .init("url", Field("url")),
        .init("urlSecret", Field("url", .secret)),
        .init("sendResolved", Field("send_resolved", .flag, written: .bool(true))),
        .init("maxAlerts", Field("max_alerts", .count)),
    ])

    static let slack: Table = Table(rows: [
        .init("apiURL", Field("api_url", .secret)),
        .init("channel", Field("channel")),
        .init("title", Field("title")),
        .init("text", Field("text")),
        .init("sendResolved", Field("send_resolved", .flag)),
    ])

    static let pagerduty: Table = Table(rows: [
        .init("routingKey", Field("routing_key", .secret)),
        .init("severity", Field("severity")),
        .init("sendResolved", Field("send_resolved", .flag)),
    ])

    static let inhibitRule: Table = Table(rows: [
        .init("sourceMatchers", Field("source_matchers", .matchers)),
        .init("targetMatchers", Field("target_matchers", .matchers)),
        .init("equal", Field("equal", .texts)),
    ])

    // MARK: writing

    /// The object's entries in the file, in the table's order; `at` names it in errors (`spec.receivers[0]`).
    static func entries(
        _ spec: Value,
        _ table: Table,
        at: String,
        secret: (SecretReference, String) throws -> String
    ) throws -> [(String, YAMLNode)] {
        var out: [(String, YAMLNode)] = []
        for row in table.rows where !row.mapping.key.isEmpty {
            guard let value = spec[row.path] ?? row.mapping.written,
                let node = try written(value, row.mapping.codec, at: "\(at).\(row.path)", secret: secret)
            else { continue }
            out.append((row.mapping.key, node))
        }
        return out
    }

    static func written(
        _ value: Value,
        _ codec: Codec,
        at: String,
        secret: (SecretReference, String) throws -> String
    ) throws -> YAMLNode? {
        switch codec {
        case .text: return value.stringValue.map(YAMLNode.string)
        case .duration: return value.intValue.map { .scalar(DurationValue(milliseconds: $0).description) }
        case .count: return value.intValue.map { .scalar(String($0)) }
        case .flag:
            if case .bool(let b) = value { return .scalar(String(b)) }
            return nil
        case .texts, .matchers:
            guard case .list(let l) = value else { return nil }
            return .list(l.compactMap { $0.stringValue.map(YAMLNode.string) })
        case .secret:
            guard case .secret(let ref) = value else { return nil }
            return .string(try secret(ref, at))
        case .object(let table, let omitEmpty):
            let inner = try entries(value, table(), at: at, secret: secret)
            return inner.isEmpty && omitEmpty ? nil : .map(inner)
        case .objects(let table):
            guard case .list(let l) = value, !l.isEmpty else { return nil }
            return .list(
                try l.enumerated().map { i, item in .map(try entries(item, table(), at: "\(at)[\(i)]", secret: secret))
                }
            )
        }
    }

    // MARK: reading

    /// The observed object with the fields the file does not hold taken from the manifest as declared, at every level.
    static func carryingUnwritten(_ observed: Value, from desired: Value, _ table: Table) -> Value {
        guard case .map(var out) = observed, case .map(let wanted) = desired else { return observed }
        for row in table.rows {
            let path = row.path
            if row.mapping.key.isEmpty {
                out[path] = wanted[path]
                continue
            }
            guard let have = out[path], let want = wanted[path] else { continue }
            switch row.mapping.codec {
            case .object(let inner, _): out[path] = carryingUnwritten(have, from: want, inner())
            case .objects(let inner):
                guard case .list(let h) = have, case .list(let w) = want else { continue }
                out[path] = .list(
                    h.enumerated().map { i, item in i < w.count ? carryingUnwritten(item, from: w[i], inner()) : item }
                )
            default: continue
            }
        }
        return .map(out)
    }

    /// A configuration's object in the manifest's shape (secrets as Alertmanager shows them).
    static func read(_ live: Value, _ table: Table) -> [String: Value] {
        var out: [String: Value] = [:]
        for row in table.rows where !row.mapping.key.isEmpty {
            if let value = read(live[row.mapping.key], row.mapping.codec) { out[row.path] = value }
        }
        return out
    }

    static func read(_ value: Value?, _ codec: Codec) -> Value? {
        guard let value else { return nil }
        switch codec {
        case .text, .secret: return value.stringValue.map(Value.string)
        case .duration: return YAMLValues.milliseconds(value).map(Value.int)
        case .count: return value.stringValue.flatMap { Int64($0) }.map(Value.int)
        case .flag: return value.stringValue.map { .bool($0 == "true") }
        case .texts: return value
        case .matchers: return RoutingConfig.matchers(value)
        case .object(let table, _):
            guard case .map = value else { return nil }
            return .map(read(value, table()))
        case .objects(let table):
            guard case .list(let l) = value else { return nil }
            return .list(l.map { .map(read($0, table())) })
        }
    }
}
