import SetpointCore

/// Checks within one resource that a JSON Schema cannot express: names that must match other fields.
enum KindChecks {
    static func run(_ kind: ResourceKind, spec: Value, root: SourceNode, validator: inout SchemaValidator) {
        switch kind {
        case .postgresCluster: postgresCluster(spec, root, &validator)
        case .alertRouting: alertRouting(spec, root, &validator)
        case .virtualMachine: virtualMachine(spec, root, &validator)
        case .backupPolicy: backupPolicy(spec, root, &validator)
        case .guestBackupJob: guestBackupJob(spec, root, &validator)
        case .proxmoxCluster: proxmoxCluster(spec, root, &validator)
        case .connectionPool: connectionPool(spec, root, &validator)
        case .host: host(spec, root, &validator)
        default: break
        }
    }

    /// A Host's key is pinned, or trusted on first use by explicit choice: never neither.
    static func host(_ spec: Value, _ root: SourceNode, _ v: inout SchemaValidator) {
        guard case .map(let ssh)? = spec["ssh"] else { return }
        if ssh["hostKeys"] == nil, ssh["trustOnFirstUse"] != .bool(true) {
            v.report(
                .invalidValue,
                "spec.ssh pins no host key",
                hint:
                    "pin the host's key in hostKeys ('ssh-ed25519 AAAA…', from /etc/ssh/ssh_host_ed25519_key.pub on the "
                    + "host), or set trustOnFirstUse: true to trust the key it offers at the first apply",
                at: root.node(at: ["spec", "ssh"])
            )
        }
    }

    /// PgBouncer keeps `server_idle_timeout` in whole seconds: a fraction would never read back as written.
    static func connectionPool(_ spec: Value, _ root: SourceNode, _ v: inout SchemaValidator) {
        if let ms = spec["serverIdleTimeout"]?.intValue, ms % 1000 != 0 {
            v.report(
                .invalidValue,
                "spec.serverIdleTimeout: \(DurationValue(milliseconds: ms)) is not a whole number of seconds",
                hint:
                    "PgBouncer keeps server_idle_timeout in seconds: write e.g. \(DurationValue(milliseconds: (ms / 1000 + 1) * 1000))",
                at: root.node(at: ["spec", "serverIdleTimeout"])
            )
        }
    }

    /// `primary` names a member; member names are unique; no two members share a host's port or data directory;
    /// the synchronous count has enough candidates.
    static func postgresCluster(_ spec: Value, _ root: SourceNode, _ v: inout SchemaValidator) {
        guard case .list(let members)? = spec["members"] else { return }
        var names: [String] = []
        var endpoints: [String: String] = [:]
        var directories: [String: String] = [:]
        for (i, m) in members.enumerated() {
            guard let name = m["name"]?.stringValue else { continue }
            let at = FieldPath([.key("spec"), .key("members"), .index(i)])
            if names.contains(name) {
                v.report(
                    .invalidValue,
                    "duplicate member name '\(name)' in spec.members",
                    hint: "member names are unique within a cluster",
                    at: root.node(at: at.appending("name"))
                )
            }
            names.append(name)
            let runsOn = m["runsOn"]?.stringValue
            if m["host"] == nil, m["conninfo"] == nil, runsOn == nil {
                v.report(
                    .invalidValue,
                    "member '\(name)' says neither where it runs nor where to dial it",
                    hint: "give it runsOn (a Host), host (an address), or conninfo",
                    at: root.node(at: at)
                )
            }
            // A member on a Host is known by that Host until the manifests say its address.
            guard let host = m["host"]?.stringValue ?? runsOn.map({ "Host/\($0)" }) else { continue }
            let endpoint = "\(host):\(m["port"]?.intValue ?? 5432)"
            if let other = endpoints[endpoint] {
                v.report(
                    .invalidValue,
                    "members '\(other)' and '\(name)' both listen on \(endpoint)",
                    hint: "each member needs its own host and port",
                    at: root.node(at: at.appending("port"))
                )
            }
            endpoints[endpoint] = endpoints[endpoint] ?? name
            if let directory = m["dataDirectory"]?.stringValue {
                let key = "\(host):\(directory)"
                if let other = directories[key] {
                    v.report(
                        .invalidValue,
                        "members '\(other)' and '\(name)' both use \(directory) on \(host)",
                        hint: "two servers on one data directory would corrupt it: give each member its own directory",
                        at: root.node(at: at.appending("dataDirectory"))
                    )
                }
                directories[key] = directories[key] ?? name
            }
        }
        if let count = spec["replication"]?["synchronousCount"]?.intValue.map({ Int($0) }), count > 0 {
            let candidates = members.filter { $0["synchronous"] == .bool(true) }.count
            // The primary is never its own synchronous standby: with every candidate marked, one is the primary.
            let primaryIsCandidate = members.contains {
                $0["name"] == spec["primary"] && $0["synchronous"] == .bool(true)
            }
            let usable = candidates - (primaryIsCandidate ? 1 : 0)
            if count > usable {
                v.report(
                    .invalidValue,
                    "spec.replication.synchronousCount: \(count) synchronous standbys wanted, but only \(usable) "
                        + "replica\(usable == 1 ? " is a candidate" : "s are candidates")",
                    hint:
                        "mark more replicas 'synchronous: true', or lower synchronousCount (commits would wait forever)",
                    at: root.node(at: ["spec", "replication", "synchronousCount"])
                )
            }
        }
        if spec["parameters"]?["synchronous_standby_names"] != nil {
            v.report(
                .conflictingFields,
                "spec.parameters.synchronous_standby_names is derived from spec.replication.synchronousCount",
                hint:
                    "remove it from parameters; mark candidates 'synchronous: true' and set replication.synchronousCount",
                at: root.node(at: ["spec", "parameters", "synchronous_standby_names"])
            )
        }
        if let primary = spec["primary"]?.stringValue, !names.contains(primary) {
            v.report(
                .invalidValue,
                "spec.primary: '\(primary)' is not a member of this cluster",
                hint: "name one of the members: " + names.joined(separator: ", "),
                at: root.node(at: ["spec", "primary"])
            )
        }
    }

    /// Every request carries the API token: an http:// endpoint sends it in clear text unless the cluster says so.
    static func proxmoxCluster(_ spec: Value, _ root: SourceNode, _ v: inout SchemaValidator) {
        guard case .list(let endpoints)? = spec["endpoints"], spec["allowPlainHTTP"] != .bool(true) else { return }
        for (i, e) in endpoints.enumerated() where e.stringValue?.hasPrefix("http://") == true {
            v.report(
                .plaintextCredential,
                "spec.endpoints[\(i)] is plain HTTP: every request would send the API token unencrypted",
                hint:
                    "use https:// (PVE listens with TLS on 8006); only behind a TLS tunnel or in a lab, set 'allowPlainHTTP: true'",
                at: root.node(at: FieldPath([.key("spec"), .key("endpoints"), .index(i)]))
            )
        }
    }

    /// Receiver names are unique; every route names a declared receiver; SMTP passwords travel under TLS.
    static func alertRouting(_ spec: Value, _ root: SourceNode, _ v: inout SchemaValidator) {
        guard case .list(let receivers)? = spec["receivers"] else { return }
        var names: [String] = []
        for (i, r) in receivers.enumerated() {
            if case .list(let emails)? = r["email"] {
                for (j, e) in emails.enumerated()
                where e["authPassword"] != nil && e["requireTLS"] == .bool(false)
                    && e["allowPlaintextAuth"] != .bool(true)
                {
                    let at = FieldPath([
                        .key("spec"), .key("receivers"), .index(i), .key("email"), .index(j), .key("requireTLS"),
                    ])
                    v.report(
                        .plaintextCredential,
                        "\(at): false with authPassword: the SMTP password would be sent unencrypted",
                        hint:
                            "remove 'requireTLS: false' (Alertmanager requires STARTTLS by default), or set 'allowPlaintextAuth: true'",
                        at: root.node(at: at)
                    )
                }
            }
            guard let name = r["name"]?.stringValue else { continue }
            if names.contains(name) {
                v.report(
                    .invalidValue,
                    "duplicate receiver name '\(name)' in spec.receivers",
                    hint: "receiver names are unique",
                    at: root.node(at: FieldPath([.key("spec"), .key("receivers"), .index(i), .key("name")]))
                )
            }
            names.append(name)
        }
        func walk(_ route: Value, _ path: FieldPath) {
            if let receiver = route["receiver"]?.stringValue, !names.contains(receiver) {
                v.report(
                    .invalidValue,
                    "\(path.appending("receiver")): '\(receiver)' is not a declared receiver",
                    hint: "declared receivers: " + Array(Set(names)).sorted().joined(separator: ", "),
                    at: root.node(at: path.appending("receiver"))
                )
            }
            if case .list(let children)? = route["routes"] {
                for (i, child) in children.enumerated() { walk(child, path.appending("routes").appending(index: i)) }
            }
        }
        if let route = spec["route"] { walk(route, ["spec", "route"]) }
    }

    /// Ballooning below memory; vCPUs within sockets × cores; cloud-init IP settings only for NICs the manifest
    /// declares.
    static func virtualMachine(_ spec: Value, _ root: SourceNode, _ v: inout SchemaValidator) {
        if let vcpus = spec["vcpus"]?.intValue {
            let cores = spec["cores"]?.intValue ?? 1
            let sockets = spec["sockets"]?.intValue ?? 1
            if vcpus > cores * sockets {
                v.report(
                    .invalidValue,
                    "spec.vcpus: \(vcpus) is more than sockets × cores (\(sockets) × \(cores) = \(sockets * cores))",
                    hint: "vcpus counts the CPUs plugged at start, out of sockets × cores; raise cores or lower vcpus",
                    at: root.node(at: ["spec", "vcpus"])
                )
            }
        }
        if let balloon = spec["balloon"]?.intValue, let memory = spec["memory"]?.intValue, balloon > memory {
            v.report(
                .invalidValue,
                "spec.balloon: \(Quantity(bytes: balloon)) is more than spec.memory (\(Quantity(bytes: memory)))",
                hint: "the balloon minimum must not exceed memory (Proxmox refuses it); 0 disables the balloon device",
                at: root.node(at: ["spec", "balloon"])
            )
        }
        // Without spec.networks the NICs come from the clone template, which only the provider can see.
        if case .map(let ipConfig)? = spec["cloudInit"]?["ipConfig"], case .map(let networks)? = spec["networks"] {
            let ipNode = root.node(at: ["spec", "cloudInit", "ipConfig"])
            for slot in ipConfig.keys.sorted() where networks[slot] == nil {
                v.report(
                    .invalidValue,
                    "spec.cloudInit.ipConfig.\(slot) configures a NIC that spec.networks does not declare",
                    hint: "declared NICs: " + networks.keys.sorted().joined(separator: ", "),
                    at: ipNode.pair(slot)?.key ?? ipNode
                )
            }
        }
    }

    /// An s3 repository needs its s3 block, and only an s3 repository has one; the objectives can be met.
    static func backupPolicy(_ spec: Value, _ root: SourceNode, _ v: inout SchemaValidator) {
        let type = spec["repository"]?["type"]?.stringValue ?? "posix"
        let hasS3 = spec["repository"]?["s3"] != nil
        if type == "s3" && !hasS3 {
            v.report(
                .missingField,
                "missing required field 'spec.repository.s3' for a repository of type s3",
                hint: "add 's3:' with bucket, endpoint, region, keyId and key",
                at: root.node(at: ["spec", "repository", "type"])
            )
        } else if type != "s3" && hasS3 {
            v.report(
                .conflictingFields,
                "spec.repository.s3 is given but the repository type is \(type)",
                hint: "set 'type: s3', or remove the s3 block",
                at: root.node(at: ["spec", "repository", "s3"])
            )
        }
        backupObjectives(spec, root, &v)
    }

    /// `all: false` selects nothing.
    static func guestBackupJob(_ spec: Value, _ root: SourceNode, _ v: inout SchemaValidator) {
        if spec["all"] == .bool(false) {
            v.report(
                .invalidValue,
                "spec.all: false selects no guest",
                hint: "use 'all: true', or select guests with 'pool' or 'vmids'",
                at: root.node(at: ["spec", "all"])
            )
        }
    }
}
