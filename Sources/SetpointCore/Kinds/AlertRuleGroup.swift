/// `AlertRuleGroup` (managed): one Prometheus rule group, written to its own rule file.
public enum AlertRuleGroupKind {
    public static let rule = ObjectSchema(
        [
            Field("alert", .string(.promName), "Alert name (an alerting rule)."),
            Field("record", .string(.promMetricName), "Recorded series name (a recording rule)."),
            Field("expr", .string(.nonEmpty), required: true, "PromQL expression, checked with promtool at plan time."),
            Field("for", .duration, "How long the condition must hold before the alert fires."),
            Field("keepFiringFor", .duration, "How long the alert keeps firing after the condition clears."),
            Field("labels", .map(keys: .promName, values: .string), "Labels added to the alert or series."),
            Field(
                "annotations",
                .map(keys: .promName, values: .string),
                "Annotations (summary, description, runbook_url)."
            ),
        ],
        exactlyOneOf: [["alert", "record"]],
        exclusions: [
            .init(
                when: "record",
                forbid: ["for", "keepFiringFor"],
                because: "a recording rule does not fire: 'for' and 'keepFiringFor' belong to alerting rules"
            )
        ]
    )

    public static let spec = ObjectSchema([
        Field(
            "prometheus",
            .reference(.prometheusServer),
            required: true,
            "The PrometheusServer that loads the group."
        ),
        Field("interval", .duration, "Evaluation interval (Prometheus' global one when absent)."),
        Field("limit", .integer(min: 0), "Most alerts or series a rule may produce (0: no limit)."),
        Field(
            "rules",
            .list(.object(rule), minItems: 1, uniqueItems: false),
            required: true,
            "Alerting and recording rules."
        ),
    ])

    public static let definition = KindDefinition(
        AlertRuleGroupSpec.self,
        isManaged: true,
        summary: "A Prometheus rule group (alerting and recording rules), one rule file per group.",
        spec: spec
    )
}

public struct AlertRuleGroupSpec: ResourceSpec {
    public static let kind = ResourceKind.alertRuleGroup
    public var prometheus: String
    public var interval: DurationValue?
    public var limit: Int?
    public var rules: [Rule]

    public struct Rule: Codable, Sendable, Equatable {
        public var alert: String?
        public var record: String?
        public var expr: String
        public var `for`: DurationValue?
        public var keepFiringFor: DurationValue?
        public var labels: [String: String]?
        public var annotations: [String: String]?
    }
}
