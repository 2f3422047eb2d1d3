import Foundation
import PVESim
import SetpointHTTP
import SetpointTesting
import Testing

/// Raw HTTP against pve-sim, no providers: every real response fixture in ../shared/pve/fixtures is answered on the
/// same endpoint with the same keys (and, where the capture is authoritative, the same JSON types); PVE's 400 wording;
/// ticket + CSRF and token auth; the committed parameter tables match the official schema.
/// Runs whenever ../shared/pve is present; under CI=true its absence is a failure.
@Suite(.timeLimit(.minutes(2)), .serialized) struct ConformanceTests {
    static let shared: String? = {
        let candidates = [ProcessInfo.processInfo.environment["SETPOINT_SHARED_PVE"], RepoPaths.path("../shared/pve")]
            .compactMap { $0 }
        return candidates.first { FileManager.default.fileExists(atPath: $0 + "/pve-api-subset.compact.json") }
    }()
    static var enabled: Bool { shared != nil || ExternalTool.isCI }

    static func requireShared() throws -> String {
        try #require(shared, "../shared/pve is missing: the PVE conformance suite cannot run (set SETPOINT_SHARED_PVE)")
    }

    // MARK: Shape comparison

    static func kind(_ v: JSONValue) -> String {
        switch v {
        case .int, .double: return "number"
        case .string: return "string"
        case .bool: return "bool"
        case .array: return "array"
        case .object: return "object"
        case .null: return "null"
        }
    }

    /// Lists whose `type` is not a resource kind (a task's type): compared as one group.
    static let ungrouped: Set<String> = ["pve64-ansible-tasks/nodes-tasks.GET.json"]

    /// Keys whose members are named by the data (disk names, tap devices, privilege paths): compared shallowly.
    static let dynamicKeys: Set<String> = ["blockstat", "nics", "cap"]

    static func compare(
        _ fixture: JSONValue,
        _ actual: JSONValue,
        path: String,
        types: Bool,
        ignore: Set<String>,
        grouped: Bool = true,
        into problems: inout [String]
    ) {
        if types || kind(fixture) == "object" || kind(fixture) == "array" {
            guard kind(fixture) == kind(actual) || !types && kind(actual) != "null" else {
                problems.append("\(path): fixture has \(kind(fixture)), pve-sim sent \(kind(actual))")
                return
            }
        }
        switch (fixture, actual) {
        case (.object(let f), .object(let a)):
            for (key, value) in f where !ignore.contains(key) {
                guard let mine = a[key] else {
                    problems.append("\(path).\(key): missing")
                    continue
                }
                if dynamicKeys.contains(key) {
                    if kind(value) != kind(mine) { problems.append("\(path).\(key): \(kind(value)) vs \(kind(mine))") }
                } else {
                    compare(value, mine, path: "\(path).\(key)", types: types, ignore: ignore, into: &problems)
                }
            }
        case (.array(let f), .array(let a)):
            // Objects grouped by their `type` (node, qemu, lxc, storage …): the union of keys per group must match.
            func deepMerge(_ a: JSONValue, _ b: JSONValue) -> JSONValue {
                guard case .object(var x) = a, case .object(let y) = b else { return a }
                for (k, v) in y { x[k] = x[k].map { deepMerge($0, v) } ?? v }
                return .object(x)
            }
            func groups(_ items: [JSONValue]) -> [String: JSONValue] {
                var result: [String: JSONValue] = [:]
                for item in items {
                    guard case .object(let o) = item else { continue }
                    let key = !grouped ? "" : o["type"]?.stringValue ?? ""
                    result[key] = result[key].map { deepMerge($0, item) } ?? item
                }
                return result
            }
            let mine = groups(a)
            for (type, keys) in groups(f) {
                guard let group = mine[type] else {
                    problems.append("\(path)[type=\(type)]: no such item")
                    continue
                }
                compare(keys, group, path: "\(path)[type=\(type)]", types: types, ignore: ignore, into: &problems)
            }
        default:
            break
        }
    }

    // MARK: The cluster the fixtures are compared against

    static func fixture(_ dir: String, _ name: String) throws -> JSONValue {
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/fixtures/\(name)"))
        return try #require(try JSONValue.parse(data)["data"])
    }

    /// Config keys of a fixture guest turned into create parameters (volumes re-allocated on pve-sim's storage).
    static func createParams(from config: JSONValue, vmid: Int) -> [String: String] {
        guard case .object(let o) = config else { return [:] }
        var p: [String: String] = ["vmid": String(vmid)]
        for (key, value) in o where key != "digest" && key != "lxc" {
            guard var text = value.stringValue else { continue }
            if key == "memory", let mib = Int(text), mib < 16 { text = "512" }
            let isVolume =
                key.hasPrefix("scsi") || key.hasPrefix("sata") || key.hasPrefix("virtio") || key.hasPrefix("ide")
                || key == "rootfs"
            if isVolume, !text.contains("media=cdrom"),
                let size = text.split(separator: ",").first(where: { $0.hasPrefix("size=") })
            {
                let gib = max(1, (Int(size.dropFirst(5).dropLast()) ?? 8) / (size.hasSuffix("M") ? 1024 : 1))
                text = "local-lvm:\(gib)"
            } else if isVolume, text.contains("cloudinit") {
                text = "local-lvm:cloudinit"
            }
            p[key] = text
        }
        return p
    }

    static func populate(_ live: LiveSim, _ dir: String) async throws {
        // Running VM with an agent (qemu-status-current), a template, a pool, LXCs, backup jobs, finished tasks.
        try await live.wait(
            try await live.ok(
                "POST",
                "/nodes/pve1/qemu",
                [
                    "vmid": "100", "name": "server1", "memory": "2000", "cores": "8",
                    "agent": "1", "scsi0": "local-lvm:32", "net0": "virtio,bridge=vmbr0", "tags": "prod",
                ]
            )
        )
        try await live.wait(try await live.ok("POST", "/nodes/pve1/qemu/100/status/start"))
        try await live.wait(
            try await live.ok("POST", "/nodes/pve1/qemu", ["vmid": "101", "name": "leap154", "scsi0": "local-lvm:8"])
        )
        try await live.ok("PUT", "/nodes/pve1/qemu/101/config", ["template": "1"])
        try await live.ok("POST", "/pools", ["poolid": "test-pool", "comment": "Test pool"])
        try await live.ok("PUT", "/pools", ["poolid": "test-pool", "vms": "100", "storage": "local"])
        var ct = createParams(from: try fixture(dir, "pve74-go-proxmox/lxc-config.GET.json"), vmid: 200)
        ct["ostemplate"] = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"
        try await live.wait(try await live.ok("POST", "/nodes/pve1/lxc", ct))
        try await live.wait(
            try await live.ok(
                "POST",
                "/nodes/pve1/lxc",
                [
                    "vmid": "201", "hostname": "test-container", "tags": "tag1;tag2", "storage": "local-lvm",
                    "ostemplate": "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst",
                ]
            )
        )
        try await live.ok("PUT", "/nodes/pve1/lxc/201/config", ["template": "1"])
        var old = createParams(
            from: try fixture(dir, "pve62-ansible-inventory/nodes_testnode_lxc_100_config.GET.json"),
            vmid: 202
        )
        old["ostemplate"] = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"
        try await live.wait(try await live.ok("POST", "/nodes/pve1/lxc", old))
        try await live.wait(try await live.ok("POST", "/nodes/pve1/lxc/202/status/start"))
        for id in [101, 102, 103] {
            let config = try fixture(dir, "pve62-ansible-inventory/nodes_testnode_qemu_\(id)_config.GET.json")
            try await live.wait(
                try await live.ok("POST", "/nodes/pve1/qemu", createParams(from: config, vmid: 200 + id))
            )
        }
        try await live.ok(
            "POST",
            "/cluster/backup",
            [
                "id": "job-vmid", "vmid": "100", "schedule": "fri 09:00", "storage": "local", "enabled": "0",
                "compress": "zstd", "mailnotification": "failure", "mode": "snapshot", "node": "pve1",
                "prune-backups": "keep-last=4,keep-weekly=4", "quiet": "1",
            ]
        )
        try await live.ok(
            "POST",
            "/cluster/backup",
            [
                "id": "job-pool", "pool": "test-pool", "schedule": "*/30", "storage": "local",
                "mailto": "ops@example.com", "mode": "snapshot", "notes-template": "{{guestname}}",
                "prune-backups": "keep-daily=7,keep-monthly=4,keep-weekly=4,keep-yearly=1",
                "mailnotification": "failure", "quiet": "1",
            ]
        )
    }

    /// Fixture → the request that answers it, whether its JSON types are authoritative, and keys to ignore (with why).
    static let cases:
        [(fixture: String, method: String, path: String, params: [String: String], types: Bool, ignore: Set<String>)] =
            [
                (
                    "pve74-go-proxmox/access-ticket.POST.json", "POST", "/access/ticket",
                    ["username": "root@pam", "password": "setpoint"], true, []
                ),
                ("pve74-go-proxmox/cluster-resources.GET.json", "GET", "/cluster/resources", [:], true, []),
                ("pve74-go-proxmox/cluster-status.GET.json", "GET", "/cluster/status", [:], true, []),
                // `lxc` holds raw lxc.* lines, written only by root editing the file.
                ("pve74-go-proxmox/lxc-config.GET.json", "GET", "/nodes/pve1/lxc/200/config", [:], true, ["lxc"]),
                ("pve74-go-proxmox/lxc-list.GET.json", "GET", "/nodes/pve1/lxc", [:], true, []),
                (
                    "pve74-go-proxmox/lxc-status-current.GET.json", "GET", "/nodes/pve1/lxc/201/status/current", [:],
                    true, []
                ),
                ("pve74-go-proxmox/node-status.GET.json", "GET", "/nodes/pve1/status", [:], true, []),
                ("pve74-go-proxmox/node-version.GET.json", "GET", "/version", [:], true, []),
                ("pve74-go-proxmox/nodes.GET.json", "GET", "/nodes", [:], true, []),
                ("pve74-go-proxmox/pool.GET.json", "GET", "/pools/test-pool", [:], true, []),
                ("pve74-go-proxmox/pools-index.GET.json", "GET", "/pools", ["poolid": "test-pool"], true, []),
                (
                    "pve74-go-proxmox/qemu-status-current.GET.json", "GET", "/nodes/pve1/qemu/100/status/current", [:],
                    true, []
                ),
                // pve62: the ansible authors replaced some values ("vmid": "100", "template": "", 1000): keys only.
                (
                    "pve62-ansible-inventory/cluster_resources__type-vm.GET.json", "GET", "/cluster/resources",
                    ["type": "vm"], false, []
                ),
                ("pve62-ansible-inventory/cluster_status.GET.json", "GET", "/cluster/status", [:], false, []),
                // `lock` is listed only while a guest is locked; the fixture's "" is one of the replaced values.
                ("pve62-ansible-inventory/nodes_testnode_lxc.GET.json", "GET", "/nodes/pve1/lxc", [:], false, ["lock"]),
                (
                    "pve62-ansible-inventory/nodes_testnode_lxc_100_config.GET.json", "GET",
                    "/nodes/pve1/lxc/202/config", [:], false, []
                ),
                // That CT is HA-managed (ha.state, ha.group); pve-sim does not simulate HA, so guests report ha.managed only.
                (
                    "pve62-ansible-inventory/nodes_testnode_lxc_100_status_current.GET.json", "GET",
                    "/nodes/pve1/lxc/202/status/current", [:], false,
                    ["state", "group"]
                ),
                ("pve62-ansible-inventory/nodes_testnode_qemu.GET.json", "GET", "/nodes/pve1/qemu", [:], false, []),
                // Recorded configs: types hold except `memory`, an integer before PVE 8.1 and a property string since.
                (
                    "pve62-ansible-inventory/nodes_testnode_qemu_101_config.GET.json", "GET",
                    "/nodes/pve1/qemu/301/config", [:], false, []
                ),
                (
                    "pve62-ansible-inventory/nodes_testnode_qemu_102_config.GET.json", "GET",
                    "/nodes/pve1/qemu/302/config", [:], false, []
                ),
                (
                    "pve62-ansible-inventory/nodes_testnode_qemu_103_config.GET.json", "GET",
                    "/nodes/pve1/qemu/303/config", [:], false, []
                ),
                (
                    "pve62-ansible-inventory/nodes_testnode_qemu_9001_config.GET.json", "GET",
                    "/nodes/pve1/qemu/101/config", [:], true, []
                ),
                (
                    "pve62-ansible-inventory/nodes_testnode_qemu_101_status_current.GET.json", "GET",
                    "/nodes/pve1/qemu/301/status/current", [:], false, []
                ),
                (
                    "pve62-ansible-inventory/nodes_testnode_qemu_102_status_current.GET.json", "GET",
                    "/nodes/pve1/qemu/302/status/current", [:], false, []
                ),
                (
                    "pve62-ansible-inventory/nodes_testnode_qemu_103_status_current.GET.json", "GET",
                    "/nodes/pve1/qemu/303/status/current", [:], false, []
                ),
                (
                    "pve62-ansible-inventory/nodes_testnode_qemu_9001_status_current.GET.json", "GET",
                    "/nodes/pve1/qemu/101/status/current", [:], true, []
                ),
                ("pve62-ansible-inventory/pools.GET.json", "GET", "/pools", [:], true, []),
                (
                    "pve62-ansible-inventory/pools__poolid-test.GET.json", "GET", "/pools", ["poolid": "test-pool"],
                    false, []
                ),
                ("pve64-ansible-tasks/nodes-tasks.GET.json", "GET", "/nodes/pve1/tasks", [:], true, []),
                ("pve7x-issue-pvesh/cluster-backup.GET.json", "GET", "/cluster/backup", [:], true, []),
                (
                    "pve6x-issue-pvesh/lxc-shutdown.POST.json", "POST", "/nodes/pve1/lxc/202/status/shutdown", [:],
                    true, []
                ),
            ]

    /// Fixtures of endpoints outside the implemented subset (pve-sim answers them 501, as PVE does for unknown methods).
    static let outsideSubset: Set<String> = [
        "pve62-ansible-inventory/nodes_testnode_network.GET.json",
        "pve62-ansible-inventory/nodes_testnode_qemu_101_agent_network-get-interfaces.GET.json",
        "pve62-ansible-inventory/nodes_testnode_qemu_102_agent_network-get-interfaces.GET.json",
        "pve62-ansible-inventory/nodes_testnode_qemu_103_agent_network-get-interfaces.GET.json",
    ]

    @Test(.enabled(if: enabled, "../shared/pve is not present"))
    func everyFixtureIsAnsweredWithTheSameKeysAndTypes() async throws {
        let dir = try Self.requireShared()
        let files = try FileManager.default.subpathsOfDirectory(atPath: dir + "/fixtures").filter {
            $0.hasSuffix(".json")
        }
        let covered = Set(Self.cases.map(\.fixture)).union(Self.outsideSubset)
        #expect(
            Set(files).subtracting(covered).isEmpty,
            "fixtures without a conformance case: \(Set(files).subtracting(covered).sorted())"
        )
        let live = try await LiveSim.start()
        defer { Task { await live.stop() } }
        try await Self.populate(live, dir)
        for c in Self.cases {
            let expected = try Self.fixture(dir, c.fixture)
            let (status, reason, body) = try await live.request(
                c.method,
                c.path,
                c.params,
                headers: c.path == "/access/ticket" ? [] : [("Authorization", Sim.token)]
            )
            try #require(status == 200, "\(c.fixture): \(c.method) \(c.path) → \(status) \(reason)")
            let actual = body["data"] ?? .null
            var problems: [String] = []
            Self.compare(
                expected,
                actual,
                path: "data",
                types: c.types,
                ignore: c.ignore,
                grouped: !Self.ungrouped.contains(c.fixture),
                into: &problems
            )
            if case .string(let upid) = expected {
                #expect(
                    upid.wholeMatch(of: /UPID:[^:]+:[0-9A-F]{8}:[0-9A-F]{8,9}:[0-9A-F]{8}:[a-z]+:\d*:[^:]+:/) != nil
                )
                let mine = actual.stringValue ?? ""
                #expect(
                    mine.wholeMatch(
                        of: /UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8,9}:[0-9A-F]{8}:vzshutdown:202:root@pam!setpoint:/
                    ) != nil,
                    "\(mine)"
                )
            }
            #expect(problems.isEmpty, "\(c.fixture) vs \(c.method) \(c.path):\n\(problems.joined(separator: "\n"))")
        }
        for file in Self.outsideSubset {
            let path =
                file.contains("network.GET")
                ? "/nodes/pve1/network" : "/nodes/pve1/qemu/100/agent/network-get-interfaces"
            let (status, _, _) = try await live.request("GET", path)
            #expect(status == 501)
        }
    }

    @Test(.enabled(if: enabled, "../shared/pve is not present"))
    func theCommittedParameterTablesMatchTheOfficialSchema() async throws {
        let dir = try Self.requireShared()
        let r = try #require(
            await ExternalTool.run("python3", [RepoPaths.path("scripts/gen-pve-schema.py"), "--check", dir])
        )
        #expect(r.status == 0, "\(r.stderr)")
    }

    @Test(.enabled(if: enabled, "../shared/pve is not present"))
    func authAndErrorsOverHTTPS() async throws {
        _ = try Self.requireShared()
        let live = try await LiveSim.start()
        defer { Task { await live.stop() } }
        // Token: wrong secret → 401 with PVE's reason phrase.
        let (s401, r401, _) = try await live.request(
            "GET",
            "/nodes",
            headers: [("Authorization", "PVEAPIToken=root@pam!setpoint=wrong")]
        )
        #expect(s401 == 401 && r401 == "authentication failure")
        // Ticket + CSRF.
        let (_, _, login) = try await live.request(
            "POST",
            "/access/ticket",
            ["username": "root@pam", "password": "setpoint"],
            headers: []
        )
        let ticket = try #require(login["data"]?["ticket"]?.stringValue)
        let csrf = try #require(login["data"]?["CSRFPreventionToken"]?.stringValue)
        let cookie = ("Cookie", "PVEAuthCookie=\(ticket.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)")
        #expect(try await live.request("GET", "/cluster/status", headers: [cookie]).0 == 200)
        let (sNoCSRF, rNoCSRF, _) = try await live.request("POST", "/pools", ["poolid": "x"], headers: [cookie])
        #expect(sNoCSRF == 401 && rNoCSRF == "Permission denied - invalid csrf token")
        #expect(
            try await live.request("POST", "/pools", ["poolid": "x"], headers: [cookie, ("CSRFPreventionToken", csrf)])
                .0 == 200
        )
        // 400 with PVE's wording, in the body and the status line.
        let (s400, r400, body) = try await live.request("POST", "/nodes/pve1/qemu", ["vmid": "99", "memory": "abc"])
        #expect(s400 == 400 && r400 == "Parameter verification failed.")
        #expect(body["errors"]?["vmid"] == .string("invalid format - value does not look like a valid VM ID\n"))
        #expect(
            body["errors"]?["memory"]?.stringValue?.hasPrefix(
                "invalid format - format error\nmemory.current: type check ('integer') failed - got 'abc'"
            ) == true
        )
        // 500 with the message as the reason phrase; 501 for unknown methods.
        let (s500, r500, _) = try await live.request("GET", "/nodes/pve1/qemu/4242/config")
        #expect(s500 == 500 && r500 == "Configuration file 'nodes/pve1/qemu-server/4242.conf' does not exist")
        let (s501, r501, _) = try await live.request("PATCH", "/nodes")
        #expect(s501 == 501 && r501 == "Method 'PATCH /nodes' not implemented")
    }
}
