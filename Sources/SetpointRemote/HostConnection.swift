import Foundation
public import SetpointCore
public import SetpointExec
import Synchronization

/// The ssh configuration, pins and key of one declared Host (and its jump hosts), in a private folder of its own.
public struct HostConnection: Sendable {
    public let directory: String
    public let runner: SSHRunner
    public let target: SSHClientConfig.Host
    /// The host and its jump hosts, the host first.
    public let chain: [SSHClientConfig.Host]
    public let resource: ResourceID

    /// Whether commands share one master connection (`SETPOINT_SSH_MULTIPLEX=off` turns it off).
    public let multiplex: Bool
    /// The forwards open on the master, by `ADDRESS:PORT`.
    let forwards = Forwards()

    final class Forwards: Sendable {
        let open = Mutex<[String: Task<String, any Error>]>([:])
    }

    /// - Parameter trusted: keys trusted on first use, by Host name (pins besides `ssh.hostKeys`); `acceptNew`: the
    ///   Hosts whose key this login may trust (``HostKeyTrust``).
    public init(
        _ name: String,
        context: ProviderContext,
        maxSessions: Int = 8,
        multiplex: Bool = true,
        trusted: [String: [String]] = [:],
        acceptNew: Set<String> = []
    ) throws {
        self.multiplex = multiplex
        // Short and private: a control socket's path must fit in 108 bytes, and the key file is a secret.
        directory = Self.parent + "/setpoint-ssh-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        try FileManager.default.createDirectory(
            atPath: directory,
            withIntermediateDirectories: false,
            attributes: [.posixPermissions: 0o700]
        )
        resource = ResourceID(kind: .host, name: name)
        do {
            // Whose folder it is: a Setpoint killed before it could remove it is found by the next one (`sweep`).
            try Self.ownerMark().write(toFile: directory + "/owner", atomically: true, encoding: .utf8)
            (chain, runner) = try Self.prepare(
                name,
                in: directory,
                resource: resource,
                context: context,
                maxSessions: maxSessions,
                multiplex: multiplex,
                trusted: trusted,
                acceptNew: acceptNew
            )
            target = chain[0]
        } catch {
            // Nothing of it stays: the folder may hold a key already.
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
    }

    /// The folder's files (pins, keys, config) for a host and its jump hosts, and the runner that uses them.
    static func prepare(
        _ name: String,
        in directory: String,
        resource: ResourceID,
        context: ProviderContext,
        maxSessions: Int,
        multiplex: Bool,
        trusted: [String: [String]] = [:],
        acceptNew: Set<String> = []
    ) throws -> ([SSHClientConfig.Host], SSHRunner) {
        var hosts: [SSHClientConfig.Host] = []
        var seen: Set<String> = []
        var next: String? = name
        while let current = next {
            guard seen.insert(current).inserted else {
                throw SetpointError(
                    .observeFailed,
                    "Host/\(current) is its own jump host (a cycle)",
                    resource: resource
                )
            }
            let id = ResourceID(kind: .host, name: current)
            guard let declared = context.declared[id] else {
                throw SetpointError(
                    .observeFailed,
                    "\(id) is not declared (named by the ssh.jump of Host/\(hosts.count > 0 ? hosts[hosts.count - 1].alias : name))",
                    resource: resource
                )
            }
            let spec = try declared.decodeSpec(HostSpec.self)
            var host = try Self.host(
                current,
                spec,
                directory: directory,
                index: hosts.count,
                secrets: context.secrets,
                trusted: trusted[current] ?? []
            )
            host.acceptNewKey = acceptNew.contains(current)
            hosts.append(host)
            next = spec.ssh.jump
        }
        let config = directory + "/config"
        try SSHClientConfig(hosts: hosts, multiplex: multiplex).text.write(
            toFile: config,
            atomically: false,
            encoding: .utf8
        )
        let become = HostSpec.named(name, in: context.declared)?.become
        return (
            hosts,
            SSHRunner(host: hosts[0], configFile: config, maxSessions: maxSessions, become: become != "none")
        )
    }

    /// One host's block: its pins as a known_hosts file, its key as a 0600 file.
    static func host(
        _ name: String,
        _ spec: HostSpec,
        directory: String,
        index: Int,
        secrets: any SecretResolver,
        trusted: [String] = []
    ) throws -> SSHClientConfig.Host {
        let port = spec.ssh.port ?? 22
        let pattern = port == 22 ? spec.address : "[\(spec.address)]:\(port)"
        let pins = (spec.ssh.hostKeys + trusted).map { key in
            key.hasPrefix("@cert-authority ")
                ? "@cert-authority \(pattern) \(key.dropFirst("@cert-authority ".count))" : "\(pattern) \(key)"
        }
        let knownHosts = directory + "/known_hosts-\(index)"
        try (pins.joined(separator: "\n") + "\n").write(toFile: knownHosts, atomically: false, encoding: .utf8)
        // ssh_config has no escape for a line break: a value holding one could add options of its own.
        for (field, value) in [("ssh.user", spec.ssh.user), ("ssh.agentSocket", spec.ssh.agentSocket ?? "")]
        where value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw SetpointError(
                .observeFailed,
                "spec.\(field) holds a control character: write it on one line",
                resource: ResourceID(kind: .host, name: name)
            )
        }
        var identity: String?
        if let reference = spec.ssh.privateKey {
            let key: String
            do { key = try secrets.resolve(reference) } catch {
                throw SetpointError(
                    .secretUnavailable,
                    "spec.ssh.privateKey (\(reference.origin)): \(error)",
                    resource: ResourceID(kind: .host, name: name)
                )
            }
            let file = directory + "/key-\(index)"
            try AtomicFile.write(key.hasSuffix("\n") ? key : key + "\n", to: file, mode: 0o600, private: true)
            identity = file
        }
        return SSHClientConfig.Host(
            alias: name,
            address: spec.address,
            port: port,
            user: spec.ssh.user,
            identityFile: identity,
            agentSocket: spec.ssh.agentSocket,
            knownHostsFile: knownHosts,
            connectTimeout: spec.ssh.connectTimeout?.duration ?? .seconds(10),
            jump: spec.ssh.jump,
            controlPath: directory + "/m\(index)"
        )
    }

    /// Logs in and runs `true`; a refusal names the host, quotes ssh and, for a key that is not pinned, gives the
    /// fingerprints of the key offered and of the pins.
    public func check() async throws {
        do {
            _ = try await runner.run(Command("true", timeout: target.connectTimeout + .seconds(5)))
        } catch let failure as CommandFailure {
            throw await diagnose(failure, doing: "`true`")
        }
    }

    /// Opens the host's master connection (its PID is this process's); a refusal is diagnosed as `check()` does.
    public func connect() async throws {
        guard multiplex else { return try await check() }
        do { try await runner.connect() } catch let failure as CommandFailure {
            throw await diagnose(failure, doing: "the login")
        }
    }

    /// An ssh failure as an error that names the host and says what to do.
    func diagnose(_ failure: CommandFailure, doing what: String) async -> SetpointError {
        let said = failure.output.split(separator: "\n").map(String.init)
            .filter { !$0.hasPrefix("@@@") && !$0.isEmpty }.suffix(4).joined(separator: " ")
        let reached = failure.status != nil && failure.status != 255
        var message =
            reached
            ? "\(resource) (\(target.address):\(target.port)) was reached, but \(what) failed there: \(said)"
            : "\(resource) (\(target.address):\(target.port)) was not reached over SSH: \(said)"
        if failure.output.contains("Permission denied (publickey") {
            message += ". Add the public half of ssh.privateKey to ~\(target.user)/.ssh/authorized_keys on the host"
        }
        if failure.output.contains("Host key verification failed") {
            // Which host of the chain it was: ssh names its address ("… host key is known for ADDRESS …"); a jump
            // host's failure is that Host's, and only it can be scanned from here.
            let lines = failure.output.split(separator: "\n").filter { $0.lowercased().contains("host key") }
            let culprit =
                chain.reversed().first { h in
                    lines.contains { $0.contains("for \(h.address)") || $0.contains("[\(h.address)]") }
                } ?? target
            let pinsFile = culprit.knownHostsFile
            let offered = await fingerprints(of: (try? await scan(culprit)) ?? "")
            let pinned = await fingerprints(
                of: (try? await onOwnThread("setpoint-ssh-pins") {
                    try String(contentsOfFile: pinsFile, encoding: .utf8)
                })
                    ?? ""
            )
            message =
                (culprit == target ? "" : "\(resource)'s jump host ")
                + "Host/\(culprit.alias) (\(culprit.address):\(culprit.port)) offered a host key that is not pinned: it offered "
                + (offered.isEmpty ? "no key that could be read" : offered.joined(separator: ", "))
                + "; it is pinned (ssh.hostKeys) or was trusted on first use as " + pinned.joined(separator: ", ")
                + ". If the host was reinstalled, check the new key on the host (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and pin it"
        }
        // The message names the host itself: no resource prefix, which would name it twice.
        return SetpointError(.observeFailed, message)
    }

    /// The Hosts of `name`'s chain (it and its jump hosts) with `ssh.trustOnFirstUse` and no pinned key: the keys
    /// trusted for them, and those this run may trust a key for. A Host with neither a pinned nor a trusted key, in a
    /// run that may not trust one (plan, doctor, no state), is refused saying what to do.
    static func trust(
        of name: String,
        context: ProviderContext
    ) async throws -> (trusted: [String: [String]], acceptNew: Set<String>) {
        var trusted: [String: [String]] = [:]
        var acceptNew: Set<String> = []
        var next: String? = name
        var seen: Set<String> = []
        while let current = next, seen.insert(current).inserted {
            guard let spec = HostSpec.named(current, in: context.declared) else { break }
            next = spec.ssh.jump
            guard spec.ssh.trustOnFirstUse == true, spec.ssh.hostKeys.isEmpty else { continue }
            let endpoint = "\(spec.address):\(spec.ssh.port ?? 22)"
            let keys = try await context.hostKeys?.trusted(host: current, endpoint: endpoint) ?? []
            if !keys.isEmpty {
                trusted[current] = keys
            } else if context.hostKeys?.canTrust == true {
                acceptNew.insert(current)
            } else {
                throw SetpointError(
                    .observeFailed,
                    "Host/\(current) (\(endpoint)) pins no key and none is trusted yet: its key is trusted on first use "
                        + "(ssh.trustOnFirstUse) by `setpoint apply` or a controller pass, which records it in the state and the "
                        + "audit log; plan and doctor never trust a key. Or pin it in ssh.hostKeys"
                )
            }
        }
        return (trusted, acceptNew)
    }

    /// After the first login: the keys ssh accepted for the Hosts that had none (`acceptNewKey`), recorded as trusted
    /// (state and audit log, with their fingerprints).
    public func recordAcceptedKeys(context: ProviderContext) async throws {
        for host in chain where host.acceptNewKey {
            let file = host.knownHostsFile
            let text =
                (try? await onOwnThread("setpoint-ssh-pins") { try String(contentsOfFile: file, encoding: .utf8) })
                ?? ""
            // `PATTERN TYPE BASE64` lines, as ssh appended them.
            let lines = text.split(separator: "\n").map(String.init).filter { !$0.isEmpty && !$0.hasPrefix("#") }
            let keys = lines.compactMap { line -> String? in
                let parts = line.split(separator: " ", maxSplits: 1)
                return parts.count == 2 ? String(parts[1]) : nil
            }
            guard !keys.isEmpty, let trust = context.hostKeys else {
                throw SetpointError(
                    .observeFailed,
                    "Host/\(host.alias) (\(host.address):\(host.port)): the first login accepted no key that could be recorded"
                )
            }
            try await trust.trust(
                host: host.alias,
                endpoint: "\(host.address):\(host.port)",
                keys: keys,
                fingerprints: await fingerprints(of: lines.joined(separator: "\n") + "\n")
            )
        }
        // From now on every login — a command without the master, a master that replaced a dead one — checks against
        // the keys just recorded, strictly: `accept-new` would let a key of another type in, unrecorded.
        guard chain.contains(where: \.acceptNewKey) else { return }
        let strict = chain.map { host -> SSHClientConfig.Host in
            var h = host
            h.acceptNewKey = false
            return h
        }
        let text = SSHClientConfig(hosts: strict, multiplex: multiplex).text
        let file = runner.configFile
        try await onOwnThread("setpoint-ssh-pins") { try text.write(toFile: file, atomically: true, encoding: .utf8) }
    }

    /// The host's keys as it offers them now (ssh-keyscan), as known_hosts lines.
    func scan(_ host: SSHClientConfig.Host? = nil) async throws -> String {
        let host = host ?? target
        return try await LocalRunner().run(
            Command("ssh-keyscan", ["-p", String(host.port), "-T", "5", host.address], timeout: .seconds(10)),
            allowFailure: true
        ).stdout
    }

    /// `TYPE SHA256:…` of each key in known_hosts text.
    func fingerprints(of knownHosts: String) async -> [String] {
        guard !knownHosts.isEmpty,
            let out = try? await LocalRunner().run(
                Command("ssh-keygen", ["-l", "-f", "/dev/stdin"], input: knownHosts),
                allowFailure: true
            )
        else { return [] }
        return out.stdout.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ")
            guard parts.count >= 2, let type = parts.last else { return nil }
            return "\(type.trimmingCharacters(in: CharacterSet(charactersIn: "()"))) \(parts[1])"
        }
    }

    /// This process as `PID STARTTIME` (field 22 of /proc/PID/stat), which tells a reused PID apart.
    static func ownerMark(pid: Int32 = getpid()) -> String {
        "\(pid) \(startTime(of: pid) ?? "?")"
    }

    static func startTime(of pid: Int32) -> String? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? String(fields[19]) : nil
    }

    /// Where the private folders go: the service's runtime directory when systemd gives one (`RuntimeDirectory=`, in
    /// `RUNTIME_DIRECTORY`), else /tmp.
    static var parent: String { parent(in: ProcessInfo.processInfo.environment) }

    static func parent(in environment: [String: String]) -> String {
        let given = environment["RUNTIME_DIRECTORY"]?.split(separator: ":").first.map(String.init)
        var isFolder: ObjCBool = false
        if let given, given.hasPrefix("/"), FileManager.default.fileExists(atPath: given, isDirectory: &isFolder),
            isFolder.boolValue
        {
            return given
        }
        return "/tmp"
    }

    /// The folders of Setpoint runs that ended without removing them (killed): their masters are told to exit
    /// through their control sockets, and the folders — a private key among their files — are removed.
    static func sweep(in parent: String = HostConnection.parent) async {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: parent) else { return }
        for name in names where name.hasPrefix("setpoint-ssh-") {
            let folder = parent + "/" + name
            guard let mark = try? String(contentsOfFile: folder + "/owner", encoding: .utf8) else { continue }
            let parts = mark.split(separator: " ")
            guard let pid = parts.first.flatMap({ Int32($0) }) else { continue }
            if kill(pid, 0) == 0 || errno == EPERM, ownerMark(pid: pid) == mark.trimmingCharacters(in: .newlines) {
                continue  // its owner still runs
            }
            let sockets =
                (try? await onOwnThread("setpoint-ssh-sweep") {
                    (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
                }) ?? []
            for socket in sockets where socket.hasPrefix("m") {
                _ = try? await LocalRunner().run(
                    Command(
                        "/usr/bin/ssh",
                        ["-F", "/dev/null", "-o", "ControlPath=\(folder)/\(socket)", "-O", "exit", "setpoint-sweep"],
                        timeout: .seconds(10)
                    ),
                    allowFailure: true
                )
            }
            _ = try? await onOwnThread("setpoint-ssh-sweep") { try FileManager.default.removeItem(atPath: folder) }
        }
    }

    /// A Unix socket in this connection's private folder that leads to `address:port` as the host sees it, through a
    /// forward on the master (`ssh -O forward -L SOCKET:ADDRESS:PORT`): how Setpoint's own SQL reaches a host behind a
    /// jump host. The socket is named as libpq looks for it, so `host=FOLDER port=PORT` connects. Opened once.
    public func forward(to address: String, port: Int) async throws -> String {
        let key = "\(address):\(port)"
        let task = forwards.open.withLock { open -> Task<String, any Error> in
            if let t = open[key] { return t }
            let folder = "\(directory)/f\(open.count)"
            let runner = runner
            let alias = target.alias
            let t = Task<String, any Error> {
                try FileManager.default.createDirectory(
                    atPath: folder,
                    withIntermediateDirectories: false,
                    attributes: [.posixPermissions: 0o700]
                )
                let out = try await LocalRunner().run(
                    Command(
                        runner.ssh,
                        [
                            "-F", runner.configFile, "-O", "forward", "-L",
                            "\(folder)/.s.PGSQL.\(port):\(address):\(port)", alias,
                        ],
                        timeout: .seconds(30)
                    ),
                    allowFailure: true
                )
                guard out.status == 0 else {
                    throw SetpointError(
                        .observeFailed,
                        "\(resource) (\(target.address)): the forward to \(address):\(port) on its connection "
                            + "was refused: \(out.stderr.trimmingCharacters(in: .whitespacesAndNewlines))"
                            + (multiplex ? "" : " (forwards need multiplexing: unset SETPOINT_SSH_MULTIPLEX)")
                    )
                }
                return folder
            }
            open[key] = t
            return t
        }
        return try await task.value
    }

    /// Removes the folder (key, pins, config); the master must be closed first.
    public func remove() { try? FileManager.default.removeItem(atPath: directory) }
}
