/// The `metadata` of every document, and the annotations Setpoint itself reads.
public enum MetadataSchema {
    /// Annotations with a meaning to Setpoint, and their allowed values.
    public static let knownAnnotations: [(key: String, values: [String], summary: String)] = [
        (
            "setpoint/approval", ["required", "auto"],
            "'required': every change to this resource waits for approval; 'auto': none does."
        ),
        ("setpoint/paused", ["true", "false"], "'true': the controller observes this resource but changes nothing."),
        (
            "setpoint/drift-policy", ["correct", "report"],
            "The controller's drift policy for this resource: 'report' leaves drift as it is."
        ),
    ]

    /// `Kind/name` of a v1 kind, for `dependsOn`.
    public static let resourceIDFormat = StringFormat(
        name: "resourceID",
        pattern: "^(" + KindRegistry.v1.map(\.kind.rawValue).joined(separator: "|")
            + ")/[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$",
        expectation: "Kind/name of a setpoint/v1 resource, e.g. 'VirtualMachine/api-1'"
    ) { u in
        guard let id = ResourceID(parsing: String(Substring(u))), KindRegistry.definition(for: id.kind) != nil else {
            return false
        }
        return StringFormat.dnsLabel.matches(id.name)
    }

    /// A dotted path under spec, `*` for one key.
    public static let ignorePathFormat = StringFormat(
        name: "ignorePath",
        pattern: "^([A-Za-z0-9_-]+|\\*)(\\.([A-Za-z0-9_-]+|\\*))*$",
        expectation: "a dotted path under spec such as 'tags' or 'disks.*.cache'"
    ) { u in
        let parts = u.split(separator: 46, omittingEmptySubsequences: false)
        return parts.allSatisfy { p in
            (p.count == 1 && p.first == 42) || (!p.isEmpty && p.allSatisfy { isAlnum($0) || $0 == 95 || $0 == 45 })
        }
    }

    public static let schema = ObjectSchema([
        Field("name", .string(.dnsLabel), required: true, "Unique per kind; a DNS label."),
        Field("labels", .map(keys: .labelKey, values: .string), "Labels for selection and display."),
        Field(
            "annotations",
            .map(keys: .labelKey, values: .string),
            "Annotations; setpoint/approval and setpoint/paused have meaning."
        ),
        Field(
            "dependsOn",
            .list(.string(resourceIDFormat), minItems: 0, uniqueItems: true),
            "Resources that must be applied before this one, besides those its spec references."
        ),
        Field(
            "ignore",
            .list(.string(ignorePathFormat), minItems: 0, uniqueItems: true),
            "Spec paths Setpoint never compares or changes, e.g. 'tags' or 'disks.*.cache' (like Argo CD's ignoreDifferences)."
        ),
    ])
}
