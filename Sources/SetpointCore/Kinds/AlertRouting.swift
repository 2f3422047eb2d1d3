/// `AlertRouting` (managed; the Alertmanager is a referenced part): receivers and routes of one Alertmanager.
public enum AlertRoutingKind {
    public static let email = ObjectSchema([
        Field("to", .string(.nonEmpty), required: true, "Recipient address."),
        Field("from", .string(.nonEmpty), "Sender address."),
        Field("smarthost", .string(.nonEmpty), "SMTP server host:port."),
        Field("authUsername", .string(.nonEmpty), "SMTP user."),
        Field("authPassword", .secret, "SMTP password, by reference."),
        Field("requireTLS", .boolean, "Require STARTTLS (Alertmanager's default: true)."),
        Field(
            "allowPlaintextAuth",
            .boolean,
            default: .bool(false),
            "Allow authPassword with requireTLS: false, which sends the SMTP password unencrypted."
        ),
        Field("sendResolved", .boolean, "Notify when alerts resolve."),
    ])

    public static let webhook = ObjectSchema(
        [
            Field("url", .string(.httpURL), "Webhook URL (when it holds no secret)."),
            Field("urlSecret", .secret, "Webhook URL, by reference (when it holds a token)."),
            Field("sendResolved", .boolean, default: .bool(true), "Notify when alerts resolve."),
            Field("maxAlerts", .integer(min: 0), "Most alerts per message (0: all)."),
        ],
        exactlyOneOf: [["url", "urlSecret"]]
    )

    public static let slack = ObjectSchema([
        Field("apiURL", .secret, required: true, "Slack incoming webhook URL, by reference."),
        Field("channel", .string(.nonEmpty), "Channel, e.g. #ops."),
        Field("title", .string, "Message title template."),
        Field("text", .string, "Message text template."),
        Field("sendResolved", .boolean, "Notify when alerts resolve."),
    ])

    public static let pagerduty = ObjectSchema([
        Field("routingKey", .secret, required: true, "Events API v2 routing key, by reference."),
        Field("severity", .enumeration(["critical", "error", "warning", "info"]), "Event severity."),
        Field("sendResolved", .boolean, "Notify when alerts resolve."),
    ])

    public static let receiver = ObjectSchema([
        Field("name", .string(.nonEmpty), required: true, "Receiver name, used by routes."),
        Field("email", .list(.object(email)), "E-mail notifications."),
        Field("webhook", .list(.object(webhook)), "Webhook notifications."),
        Field("slack", .list(.object(slack)), "Slack notifications."),
        Field("pagerduty", .list(.object(pagerduty)), "PagerDuty notifications."),
    ])

    /// Fields of a route; the root route has a required receiver and no matchers or `continue` (Alertmanager refuses them).
    static func routeFields(root: Bool) -> [Field] {
        [
            Field("receiver", .string(.nonEmpty), required: root, "Receiver of alerts matching this route."),
            Field("matchers", .list(.string(.nonEmpty)), "Matchers such as 'severity=\"critical\"'."),
            Field("groupBy", .list(.string(.nonEmpty)), "Labels to group alerts by ('...' for all)."),
            Field("groupWait", .duration, "Wait before the first notification of a group."),
            Field("groupInterval", .duration, "Wait before notifying about new alerts of a group."),
            Field("repeatInterval", .duration, "Wait before repeating a notification (escalation cadence)."),
            Field("continue", .boolean, "Keep matching sibling routes after this one."),
            Field("routes", .list(.named("route")), "Child routes, e.g. escalation to PagerDuty for critical alerts."),
        ].filter { !root || ($0.name != "matchers" && $0.name != "continue") }
    }

    /// A nested route (recursive).
    public static let routeSchema = ObjectSchema(routeFields(root: false))

    public static let inhibitRule = ObjectSchema([
        Field(
            "sourceMatchers",
            .list(.string(.nonEmpty), minItems: 1, uniqueItems: false),
            required: true,
            "Alerts that inhibit."
        ),
        Field(
            "targetMatchers",
            .list(.string(.nonEmpty), minItems: 1, uniqueItems: false),
            required: true,
            "Alerts that are muted."
        ),
        Field("equal", .list(.string(.nonEmpty)), "Labels that must be equal in both."),
    ])

    static let alertmanager = ObjectSchema([
        Field(
            "runsOn",
            .reference(.host),
            "The Host Alertmanager runs on: its configuration is written and amtool runs there. Absent: the machine Setpoint runs on."
        ),
        Field("url", .string(.httpURL), required: true, "Alertmanager base URL."),
        Field(
            "configFile",
            .string(.absolutePath),
            required: true,
            "Configuration file; Setpoint owns and rewrites it."
        ),
        Field("requestTimeout", .duration, default: .int(10_000), "Timeout of one API request."),
    ])

    public static let global = ObjectSchema([
        Field("resolveTimeout", .duration, "Time after which an alert without updates is resolved."),
        Field("smtpSmarthost", .string(.nonEmpty), "Default SMTP server host:port."),
        Field("smtpFrom", .string(.nonEmpty), "Default sender address."),
    ])

    public static let spec = ObjectSchema([
        Field(
            "alertmanager",
            .object(alertmanager),
            required: true,
            "The Alertmanager (referenced) and the config file Setpoint owns."
        ),
        Field("global", .object(global), "Global settings."),
        Field(
            "receivers",
            .list(.object(receiver), minItems: 1, uniqueItems: false),
            required: true,
            "Where notifications go."
        ),
        Field("route", .object(ObjectSchema(routeFields(root: true))), required: true, "The routing tree's root."),
        Field("inhibitRules", .list(.object(inhibitRule)), "Mute some alerts while others fire."),
    ])

    public static let definition = KindDefinition(
        AlertRoutingSpec.self,
        isManaged: true,
        summary: "One Alertmanager's receivers (email, webhook, Slack, PagerDuty) and routing tree with escalation.",
        spec: spec,
        uniqueKeys: [
            UniqueKey(
                scope: "alertmanager-url",
                paths: [["alertmanager", "url"]],
                reason: "one AlertRouting per Alertmanager"
            ),
            UniqueKey(
                scope: "alertmanager-config",
                paths: [["alertmanager", "configFile"]],
                reason: "a configuration file has one owner"
            ),
        ]
    )
}

public struct AlertRoutingSpec: ResourceSpec {
    public static let kind = ResourceKind.alertRouting
    public var alertmanager: Alertmanager
    public var global: Global?
    public var receivers: [Receiver]
    public var route: Route
    public var inhibitRules: [InhibitRule]?

    public struct Alertmanager: Codable, Sendable, Equatable {
        public var runsOn: String?
        public var url: String
        public var configFile: String
        public var requestTimeout: DurationValue?
    }

    public struct Global: Codable, Sendable, Equatable {
        public var resolveTimeout: DurationValue?
        public var smtpSmarthost: String?
        public var smtpFrom: String?
    }

    public struct Receiver: Codable, Sendable, Equatable {
        public var name: String
        public var email: [Email]?
        public var webhook: [Webhook]?
        public var slack: [Slack]?
        public var pagerduty: [PagerDuty]?
    }

    public struct Email: Codable, Sendable, Equatable {
        public var to: String
        public var from: String?
        public var smarthost: String?
        public var authUsername: String?
        public var authPassword: SecretReference?
        public var requireTLS: Bool?
        public var allowPlaintextAuth: Bool?
        public var sendResolved: Bool?
    }

    public struct Webhook: Codable, Sendable, Equatable {
        public var url: String?
        public var urlSecret: SecretReference?
        public var sendResolved: Bool?
        public var maxAlerts: Int?
    }

    public struct Slack: Codable, Sendable, Equatable {
        public var apiURL: SecretReference
        public var channel: String?
        public var title: String?
        public var text: String?
        public var sendResolved: Bool?
    }

    public struct PagerDuty: Codable, Sendable, Equatable {
        public var routingKey: SecretReference
        public var severity: String?
        public var sendResolved: Bool?
    }

    public struct Route: Codable, Sendable, Equatable {
        public var receiver: String?
        public var matchers: [String]?
        public var groupBy: [String]?
        public var groupWait: DurationValue?
        public var groupInterval: DurationValue?
        public var repeatInterval: DurationValue?
        public var `continue`: Bool?
        public var routes: [Route]?
    }

    public struct InhibitRule: Codable, Sendable, Equatable {
        public var sourceMatchers: [String]
        public var targetMatchers: [String]
        public var equal: [String]?
    }
}
