/// `PrometheusServer` (referenced): a Prometheus whose rule files Setpoint manages.
public enum PrometheusServerKind {
    public static let spec = ObjectSchema([
        Field(
            "runsOn",
            .reference(.host),
            "The Host Prometheus runs on: rule files are written and promtool runs there. Absent: the machine Setpoint runs on."
        ),
        Field("url", .string(.httpURL), required: true, "Prometheus base URL, e.g. http://127.0.0.1:9090."),
        Field(
            "rulesDirectory",
            .string(.absolutePath),
            required: true,
            "Folder matched by Prometheus' rule_files glob; Setpoint writes one file per AlertRuleGroup there."
        ),
        Field(
            "reload",
            .boolean,
            default: .bool(true),
            "POST /-/reload after a change (needs --web.enable-lifecycle)."
        ),
        Field("alertmanager", .string(.httpURL), "The Alertmanager this Prometheus sends alerts to."),
        Field("requestTimeout", .duration, default: .int(10_000), "Timeout of one API request."),
    ])

    public static let definition = KindDefinition(
        PrometheusServerSpec.self,
        isManaged: false,
        summary: "A Prometheus server and its rules folder (referenced: never created or deleted).",
        spec: spec,
        uniqueKeys: [
            UniqueKey(scope: "prometheus-rules", paths: [["rulesDirectory"]], reason: "a rules folder has one owner")
        ]
    )
}

public struct PrometheusServerSpec: ResourceSpec {
    public static let kind = ResourceKind.prometheusServer
    public var runsOn: String?
    public var url: String
    public var rulesDirectory: String
    public var reload: Bool?
    public var alertmanager: String?
    public var requestTimeout: DurationValue?
}
