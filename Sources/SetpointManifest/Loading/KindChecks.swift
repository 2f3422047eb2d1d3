import SetpointCore

/// Checks within one resource that a JSON Schema cannot express: names that must match other fields.
enum KindChecks {
    static func run(_ kind: ResourceKind, spec: Value, root: SourceNode, validator: inout SchemaValidator) {
        switch kind {
        case .postgresCluster: postgresCluster(spec, root, &validator)
        case .alertRouting: alertRouting(spec, root, &validator)
        case .alertRuleGroup: alertRuleGroup(spec, root, &validator)
        default: break
        }
    }

    /// `primary` names a member; member names are unique.
    static func postgresCluster(_ spec: Value, _ root: SourceNode, _ v: inout SchemaValidator) {
        guard case .list(let members)? = spec["members"] else { return }
        var names: [String] = []
        for (i, m) in members.enumerated() {
            guard let name = m["name"]?.stringValue else { continue }
            if names.contains(name) {
                v.report(.invalidValue, "duplicate member name '\(name)' in spec.members", hint: "member names are unique within a cluster",
                         at: root.node(at: FieldPath([.key("spec"), .key("members"), .index(i), .key("name")])))
            }
            names.append(name)
        }
        if let primary = spec["primary"]?.stringValue, !names.contains(primary) {
            v.report(.invalidValue, "spec.primary: '\(primary)' is not a member of this cluster",
                     hint: "name one of the members: " + names.joined(separator: ", "), at: root.node(at: ["spec", "primary"]))
        }
    }

    /// Receiver names are unique; every route names a declared receiver.
    static func alertRouting(_ spec: Value, _ root: SourceNode, _ v: inout SchemaValidator) {
        guard case .list(let receivers)? = spec["receivers"] else { return }
        var names: [String] = []
        for (i, r) in receivers.enumerated() {
            guard let name = r["name"]?.stringValue else { continue }
            if names.contains(name) {
                v.report(.invalidValue, "duplicate receiver name '\(name)' in spec.receivers", hint: "receiver names are unique",
                         at: root.node(at: FieldPath([.key("spec"), .key("receivers"), .index(i), .key("name")])))
            }
            names.append(name)
        }
        func walk(_ route: Value, _ path: FieldPath) {
            if let receiver = route["receiver"]?.stringValue, !names.contains(receiver) {
                v.report(.invalidValue, "\(path.appending("receiver")): '\(receiver)' is not a declared receiver",
                         hint: "declared receivers: " + names.joined(separator: ", "), at: root.node(at: path.appending("receiver")))
            }
            if case .list(let children)? = route["routes"] {
                for (i, child) in children.enumerated() { walk(child, path.appending("routes").appending(index: i)) }
            }
        }
        if let route = spec["route"] { walk(route, ["spec", "route"]) }
    }

    /// `for` and `keepFiringFor` belong to alerting rules only; alert names are unique within a group.
    static func alertRuleGroup(_ spec: Value, _ root: SourceNode, _ v: inout SchemaValidator) {
        guard case .list(let rules)? = spec["rules"] else { return }
        for (i, rule) in rules.enumerated() where rule["record"] != nil {
            for key in ["for", "keepFiringFor"] where rule[key] != nil {
                let path = FieldPath([.key("spec"), .key("rules"), .index(i), .key(key)])
                v.report(.conflictingFields, "\(path): '\(key)' applies to alerting rules only, and this is a recording rule",
                         hint: "remove it, or make the rule an 'alert:'", at: root.node(at: path))
            }
        }
    }
}
