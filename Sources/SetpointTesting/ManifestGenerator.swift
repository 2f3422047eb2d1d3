import Foundation

/// Generates large, valid, deterministic `setpoint/v1` manifest sets for load tests and benchmarks.
///
/// The mix is what a big shop declares: a few `ProxmoxCluster`s, one `PrometheusServer` and a handful of
/// `ResourcePool`s up front, then repeating blocks of 100 resources, each made of
///
/// - 57 `VirtualMachine`s (8 of them database hosts) with disks, NICs, cloud-init, tags and placement,
/// - 33 `Container`s with root volumes, mount points and NICs,
/// - 3 `PostgresCluster`s whose members run on the block's database hosts,
/// - 2 `BackupPolicy`s and 1 `ConnectionPool` for those clusters,
/// - 3 `AlertRuleGroup`s of 3 to 6 rules each, for the one `PrometheusServer`,
/// - 1 `GuestBackupJob` (by pool on even blocks, by the database hosts' VMIDs on odd ones).
///
/// Every reference points to a resource of the same set, so the set loads without a single diagnostic.
/// Documents average about 600 bytes: 10,000 resources come to about 6 MB.
///
/// ```swift
/// let yaml = ManifestGenerator.stack(resources: 1_000)
/// let set = ManifestLoader().load(text: yaml, file: "stack.yaml")
/// assert(set.diagnostics.isEmpty)
/// ```
public enum ManifestGenerator {
    /// One YAML document per resource, each starting with `---`, in declaration order.
    ///
    /// The same `resources` count always gives the same documents.
    public static func documents(resources count: Int) -> [String] {
        guard count > 0 else { return [] }
        let layout = Layout(resources: count)
        var out: [String] = []
        out.reserveCapacity(count)
        for c in 0..<layout.clusters where out.count < count { out.append(proxmoxCluster(c, layout)) }
        if out.count < count { out.append(prometheusServer(layout)) }
        for p in 0..<layout.pools where out.count < count { out.append(resourcePool(p, layout)) }
        var index = 0
        while out.count < count {
            let block = index / Layout.blockSize
            let slot = index % Layout.blockSize
            out.append(bodyDocument(block: block, slot: slot, index: index, layout))
            index += 1
        }
        return out
    }

    /// The whole set as one multi-document YAML text.
    public static func stack(resources count: Int) -> String {
        documents(resources: count).joined()
    }

    /// The set split over `files` texts of consecutive documents (as even as the count allows), each named
    /// `stack-NN.yaml` in order. References cross file boundaries, as they do in real repositories.
    public static func files(resources count: Int, files fileCount: Int) -> [(name: String, text: String)] {
        let docs = documents(resources: count)
        let n = max(1, min(fileCount, max(docs.count, 1)))
        let width = String(n - 1).count
        var result: [(name: String, text: String)] = []
        result.reserveCapacity(n)
        for f in 0..<n {
            let lo = docs.count * f / n
            let hi = docs.count * (f + 1) / n
            let number = String(f)
            let name = "stack-" + String(repeating: "0", count: max(0, max(2, width) - number.count)) + number + ".yaml"
            result.append((name, docs[lo..<hi].joined()))
        }
        return result
    }

    /// Writes the set into `directory` (created when missing) as `files` files and returns their paths.
    @discardableResult
    public static func write(resources count: Int, files fileCount: Int = 1, into directory: String) throws -> [String]
    {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var paths: [String] = []
        for file in files(resources: count, files: fileCount) {
            let path = (directory as NSString).appendingPathComponent(file.name)
            try Data(file.text.utf8).write(to: URL(fileURLWithPath: path))
            paths.append(path)
        }
        return paths
    }

    // MARK: - Layout

    /// How many of the shared resources a set of a given size declares.
    struct Layout {
        static let blockSize = 100
        let clusters: Int
        let pools: Int

        init(resources: Int) {
            clusters = max(1, min(8, resources / 2_500))
            pools = max(2, min(64, resources / 250))
        }

        func clusterName(_ c: Int) -> String {
            ManifestGenerator.regions[c % ManifestGenerator.regions.count]
                + (c < ManifestGenerator.regions.count ? "" : "-\(c)")
        }
        /// The pool a block's guests belong to, and the cluster that pool lives in.
        func pool(ofBlock b: Int) -> Int { b % pools }
        func cluster(ofPool p: Int) -> Int { p % clusters }
        func poolName(_ p: Int) -> String {
            ManifestGenerator.teams[p % ManifestGenerator.teams.count] + "-" + String(p)
        }
        func team(ofBlock b: Int) -> String {
            ManifestGenerator.teams[pool(ofBlock: b) % ManifestGenerator.teams.count]
        }
    }

    static let regions = [
        "pve-east", "pve-west", "pve-north", "pve-south", "pve-central", "pve-lab", "pve-edge", "pve-dr",
    ]
    static let teams = [
        "payments", "checkout", "search", "catalog", "identity", "billing", "ledger", "ingest", "reports", "notify",
        "media", "gateway",
    ]
    static let appRoles = ["api", "web", "worker", "cache", "queue", "batch", "cron", "proxy"]
    static let ctRoles = ["sidecar", "exporter", "dns", "ntp", "mail", "syslog", "runner", "vault"]
    static let envs = ["prod", "staging", "dev"]
    static let storages = ["ceph-vm", "local-lvm", "nvme-pool", "ssd-tank"]
    static let templates = [
        "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst",
        "local:vztmpl/ubuntu-24.04-standard_24.04-2_amd64.tar.zst",
        "local:vztmpl/alpine-3.20-default_20240908_amd64.tar.xz",
    ]
    static let sshKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG0rXqS2Qx7sT4vJ9mN1bV3cL8pK6dF5hY2wE0uR7tZa"

    /// Block slots: 0..<8 database VMs, 8..<57 app VMs, 57..<90 containers, then the rest.
    static func bodyDocument(block b: Int, slot: Int, index i: Int, _ l: Layout) -> String {
        switch slot {
        case 0..<8: virtualMachine(i, block: b, slot: slot, database: true, l)
        case 8..<57: virtualMachine(i, block: b, slot: slot, database: false, l)
        case 57..<90: container(i, block: b, slot: slot, l)
        case 90, 91, 92: postgresCluster(block: b, n: slot - 90, l)
        case 93, 94: backupPolicy(block: b, n: slot - 93, l)
        case 95: connectionPool(block: b, l)
        case 96, 97, 98: alertRuleGroup(block: b, n: slot - 96, l)
        default: guestBackupJob(block: b, l)
        }
    }

    static func header(_ kind: String, _ name: String) -> String {
        "---\napiVersion: setpoint/v1\nkind: \(kind)\nmetadata:\n  name: \(name)\n"
    }

    static func labels(_ pairs: (String, String)...) -> String {
        var out = "  labels:\n"
        for (k, v) in pairs { out += "    \(k): \(v)\n" }
        return out
    }

    static func vmName(block b: Int, slot: Int, _ l: Layout) -> String {
        let team = l.team(ofBlock: b)
        let i = b * Layout.blockSize + slot
        if slot < 8 { return "\(team)-db-\(i)" }
        return "\(team)-\(appRoles[i % appRoles.count])-\(i)"
    }

    static func pgName(block b: Int, n: Int, _ l: Layout) -> String { "\(l.team(ofBlock: b))-pg-\(b)-\(n)" }

    /// Which database VMs of a block carry which cluster's members.
    static func pgMemberSlots(_ n: Int) -> [Int] { n == 0 ? [0, 1, 2] : n == 1 ? [3, 4, 5] : [6, 7] }

    static func ip(_ i: Int, subnet: Int) -> String { "10.\(subnet).\((i / 250) % 250).\(i % 250 + 2)" }

    // MARK: - Shared resources

    static func proxmoxCluster(_ c: Int, _ l: Layout) -> String {
        let name = l.clusterName(c)
        var s = header("ProxmoxCluster", name)
        s += labels(("region", name.replacingOccurrences(of: "pve-", with: "")), ("tier", "infrastructure"))
        s += "spec:\n  endpoints:\n"
        for n in 1...3 { s += "    - https://\(name)-\(n).example.net:8006\n" }
        s += "  tokenId: \"setpoint@pve!reconciler\"\n"
        s += "  tokenSecret:\n    file: /run/secrets/\(name)-token\n"
        s += "  tls:\n    caFile: /etc/setpoint/\(name)-ca.pem\n"
        s += "  maxConcurrentRequests: 8\n  requestTimeout: 30s\n"
        return s
    }

    static func prometheusServer(_ l: Layout) -> String {
        var s = header("PrometheusServer", "prom-main")
        s += "spec:\n  url: http://10.0.0.10:9090\n  rulesDirectory: /etc/prometheus/rules.d/setpoint\n"
        s += "  reload: true\n  alertmanager: http://10.0.0.11:9093\n  requestTimeout: 10s\n"
        return s
    }

    static func resourcePool(_ p: Int, _ l: Layout) -> String {
        let team = teams[p % teams.count]
        var s = header("ResourcePool", l.poolName(p))
        s += labels(("team", team))
        s +=
            "spec:\n  cluster: \(l.clusterName(l.cluster(ofPool: p)))\n  comment: Guests of the \(team) team (pool \(p))\n"
        return s
    }

    // MARK: - Guests

    static func virtualMachine(_ i: Int, block b: Int, slot: Int, database: Bool, _ l: Layout) -> String {
        let p = l.pool(ofBlock: b)
        let c = l.cluster(ofPool: p)
        let team = l.team(ofBlock: b)
        let env = envs[(i / 7) % envs.count]
        let role = database ? "db" : appRoles[i % appRoles.count]
        let storage = storages[(i + c) % storages.count]
        var s = header("VirtualMachine", vmName(block: b, slot: slot, l))
        s += labels(("app", "\(team)-\(role)"), ("team", team), ("env", env))
        if i % 10 == 3 { s += "  annotations:\n    setpoint/approval: required\n" }
        s += "spec:\n  cluster: \(l.clusterName(c))\n"
        if i % 4 == 0 {
            s += "  placement:\n    nodes: [n\(c)-pve01, n\(c)-pve02, n\(c)-pve03]\n    strategy: spread\n"
        } else {
            s += "  node: n\(c)-pve0\(i % 6 + 1)\n"
        }
        s += "  vmid: \(10_000 + i)\n"
        if !database, i % 3 == 0 { s += "  clone:\n    vmid: \(9_000 + i % 4)\n    storage: \(storage)\n" }
        let cores = database ? 8 : [2, 4, 4, 8][i % 4]
        s +=
            "  cores: \(cores)\n  memory: \(database ? 32 : cores * 2)Gi\n  cpu: x86-64-v2-AES\n  osType: l26\n  agent: true\n"
        s +=
            "  disks:\n    scsi0:\n      storage: \(storage)\n      size: \(database ? 64 : 32)Gi\n      discard: true\n"
        if database {
            s += "    scsi1:\n      storage: nvme-pool\n      size: 512Gi\n      cache: none\n      iothread: true\n"
        }
        s += "  networks:\n    net0:\n      bridge: vmbr0\n      vlan: \(100 + p)\n"
        if i % 5 == 0 { s += "      macaddr: \"BC:24:11:\(hex2(i >> 16)):\(hex2(i >> 8)):\(hex2(i))\"\n" }
        if !database, i % 2 == 1 {
            s += "  cloudInit:\n    user: deploy\n    password:\n      env: CI_PASSWORD\n    ipConfig:\n      net0:\n"
            s += "        ip: \(ip(i, subnet: 20 + c))/16\n        gateway: 10.\(20 + c).0.1\n"
        }
        s += "  pool: \(l.poolName(p))\n  tags: [\(env), \(team)]\n"
        if database { s += "  protection: true\n" }
        s += "  onBoot: true\n"
        if i % 4 == 2 { s += "  description: \(team) \(role) node \(i), owned by the \(team) team\n" }
        return s
    }

    static func container(_ i: Int, block b: Int, slot: Int, _ l: Layout) -> String {
        let p = l.pool(ofBlock: b)
        let c = l.cluster(ofPool: p)
        let team = l.team(ofBlock: b)
        let role = ctRoles[i % ctRoles.count]
        let env = envs[(i / 5) % envs.count]
        let name = "\(team)-\(role)-\(i)"
        var s = header("Container", name)
        s += labels(("app", "\(team)-\(role)"), ("team", team), ("env", env))
        s += "spec:\n  cluster: \(l.clusterName(c))\n  node: n\(c)-pve0\(i % 6 + 1)\n  vmid: \(10_000 + i)\n"
        s += "  template: \(templates[i % templates.count])\n"
        s += "  cores: \(i % 3 + 1)\n  memory: \(512 << (i % 3))Mi\n"
        s += "  rootfs:\n    storage: local-lvm\n    size: 8Gi\n"
        if i % 3 == 0 {
            s += "  mountPoints:\n    mp0:\n      storage: ssd-tank\n      size: 20Gi\n      path: /srv/\(role)\n"
        }
        s +=
            "  networks:\n    net0:\n      name: eth0\n      bridge: vmbr1\n      ip: \(ip(i, subnet: 40 + c))/16\n      gateway: 10.\(40 + c).0.1\n"
        if i % 4 == 0 { s += "  features:\n    nesting: true\n" }
        s += "  pool: \(l.poolName(p))\n  tags: [\(env), \(team), lxc]\n"
        return s
    }

    // MARK: - Databases

    static func postgresCluster(block b: Int, n: Int, _ l: Layout) -> String {
        let name = pgName(block: b, n: n, l)
        let slots = pgMemberSlots(n)
        var s = header("PostgresCluster", name)
        s += labels(("team", l.team(ofBlock: b)))
        s += "spec:\n  version: 16\n  primary: \(name)-1\n  members:\n"
        for (k, slot) in slots.enumerated() {
            let i = b * Layout.blockSize + slot
            s += "    - name: \(name)-\(k + 1)\n      host: \(ip(i, subnet: 30))\n"
            s += "      dataDirectory: /var/lib/postgresql/16/main\n      guest: \(vmName(block: b, slot: slot, l))\n"
            if k == 1 { s += "      synchronous: true\n" }
        }
        s +=
            "  connection:\n    user: setpoint\n    password:\n      file: /run/secrets/\(name)-setpoint\n    sslmode: require\n"
        s += "  replication:\n    synchronousCount: \(slots.count > 2 ? 1 : 0)\n    maxSwitchoverLag: 64Mi\n"
        s +=
            "  parameters:\n    shared_buffers: 8GB\n    max_connections: \(200 + 100 * n)\n    wal_compression: \"on\"\n"
        return s
    }

    static func backupPolicy(block b: Int, n: Int, _ l: Layout) -> String {
        let cluster = pgName(block: b, n: n, l)
        var s = header("BackupPolicy", "\(cluster)-backup")
        s += "spec:\n  cluster: \(cluster)\n  repository:\n    path: /var/lib/pgbackrest/\(cluster)\n"
        s += "  schedules:\n    full: \"0 1 * * 0\"\n    diff: \"0 1 * * 1-6\"\n    incr: \"0 */4 * * *\"\n"
        s += b % 2 == 0 ? "  retention:\n    full: 4\n" : "  retention:\n    window: 30d\n"
        s +=
            "  compression: zst\n  encryption:\n    cipher: aes-256-cbc\n    passphrase:\n      env: PGBACKREST_CIPHER_PASS\n"
        s += "  objectives:\n    rpo: 5m\n    rto: 1h\n"
        if n == 0 {
            s +=
                "  drill:\n    schedule: \"30 3 * * 6\"\n    port: \(20_000 + b % 10_000)\n    directory: /srv/drills/\(cluster)\n"
            s += "    checks:\n      - sql: select count(*) > 0 from pg_class\n        expect: t\n"
        }
        return s
    }

    static func connectionPool(block b: Int, _ l: Layout) -> String {
        let team = l.team(ofBlock: b)
        let name = "\(team)-pgbouncer-\(b)"
        var s = header("ConnectionPool", name)
        s +=
            "spec:\n  pgbouncer:\n    host: \(ip(b, subnet: 31))\n    port: 6432\n    adminPassword:\n      env: PGBOUNCER_ADMIN\n"
        s += "    iniFile: /etc/pgbouncer/\(name).ini\n    databasesFile: /etc/pgbouncer/\(name)-databases.ini\n"
        s += "  databases:\n"
        for n in 0..<3 {
            let cluster = pgName(block: b, n: n, l)
            s += "    \(team)_\(n):\n      cluster: \(cluster)\n      poolSize: \(20 + 10 * n)\n"
            if n == 2 { s += "      target: replicas\n" }
        }
        s += "  maxClientConn: 2000\n  serverIdleTimeout: 10m\n"
        return s
    }

    // MARK: - Monitoring and guest backups

    static func alertRuleGroup(block b: Int, n: Int, _ l: Layout) -> String {
        let team = l.team(ofBlock: b)
        let name = "\(team)-alerts-\(b)-\(n)"
        var s = header("AlertRuleGroup", name)
        s += "spec:\n  prometheus: prom-main\n  interval: 30s\n  rules:\n"
        let count = 3 + (b + n) % 4
        for r in 0..<count {
            switch r % 4 {
            case 0:
                s +=
                    "    - alert: \(team.capitalized)InstanceDown\n      expr: up{team=\"\(team)\"} == 0\n      for: 5m\n"
                s +=
                    "      labels:\n        severity: critical\n      annotations:\n        summary: \"{{ $labels.instance }} is down\"\n"
            case 1:
                s += "    - alert: \(team.capitalized)HighErrorRate\n"
                s +=
                    "      expr: sum(rate(http_requests_total{team=\"\(team)\",code=~\"5..\"}[5m])) > 1\n      for: 10m\n"
                s += "      labels:\n        severity: warning\n"
            case 2:
                s +=
                    "    - record: \(team):http_requests:rate5m\n      expr: sum by (job) (rate(http_requests_total[5m]))\n"
            default:
                s +=
                    "    - alert: \(team.capitalized)DiskFull\n      expr: node_filesystem_avail_bytes / node_filesystem_size_bytes < 0.1\n"
                s += "      for: 15m\n      labels:\n        severity: warning\n"
            }
        }
        return s
    }

    static func guestBackupJob(block b: Int, _ l: Layout) -> String {
        let p = l.pool(ofBlock: b)
        let c = l.cluster(ofPool: p)
        var s = header("GuestBackupJob", "\(l.team(ofBlock: b))-nightly-\(b)")
        s += "spec:\n  cluster: \(l.clusterName(c))\n  schedule: \"0\(b % 6):30\"\n  storage: pbs-\(c)\n"
        if b % 2 == 0 {
            s += "  pool: \(l.poolName(p))\n"
        } else {
            // The block's database hosts, declared earlier in the block.
            let ids = (0..<8).map { String(10_000 + b * Layout.blockSize + $0) }.joined(separator: ", ")
            s += "  vmids: [\(ids)]\n"
        }
        s += "  mode: snapshot\n  retention:\n    keepDaily: 7\n    keepWeekly: 4\n    keepMonthly: 6\n"
        s += "  mailTo: [ops@example.net]\n  notesTemplate: \"{{guestname}}\"\n"
        return s
    }

    static func hex2(_ v: Int) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[(v >> 4) & 0xF], digits[v & 0xF]])
    }
}
