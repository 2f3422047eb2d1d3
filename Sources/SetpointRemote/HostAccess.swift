import Foundation
public import SetpointCore
public import SetpointExec
import Synchronization

/// Where a provider acts: one host's commands and files. `runsOn` absent means this machine (``local``); a Host name
/// means that host over SSH, through the run's one master connection to it.
public struct HostAccess: Sendable {
    /// The Host's name, nil for this machine.
    public let host: String?
    /// The Host's address (what libpq or HTTP dials when the manifest gives no other), nil for this machine.
    public let address: String?
    public let runner: any CommandRunner
    public let files: any HostFiles
    /// For a Host behind a jump host: a forward on its connection to `ADDRESS:PORT` there, as a socket folder.
    let forwarding: (@Sendable (String, Int) async throws -> String)?
    /// For any Host reached over SSH: a forward on its connection, as a socket folder (a port only its loopback has).
    let tunneling: (@Sendable (String, Int) async throws -> String)?

    public init(
        host: String?,
        address: String?,
        runner: any CommandRunner,
        files: any HostFiles,
        forwarding: (@Sendable (String, Int) async throws -> String)? = nil,
        tunneling: (@Sendable (String, Int) async throws -> String)? = nil
    ) {
        self.host = host
        self.address = address
        self.runner = runner
        self.files = files
        self.forwarding = forwarding
        self.tunneling = tunneling ?? forwarding
    }

    /// A forward on this Host's connection to `address:port` as the host sees it (its own loopback, say), as a
    /// socket folder for libpq (`host=FOLDER port=PORT`); nil on this machine, where no forward is needed.
    public func tunnelFolder(to address: String, port: Int) async throws -> String? {
        guard let tunneling else { return nil }
        return try await tunneling(address, port)
    }

    /// The socket itself, for a client that takes a socket path (libcurl): the name is libpq's, which the forward uses.
    public func forwardSocket(to address: String, port: Int) async throws -> String? {
        try await socketFolder(to: address, port: port).map { "\($0)/.s.PGSQL.\(port)" }
    }

    /// Where Setpoint's own libpq connection to `address:port` on this host goes: nil for straight there; for a Host
    /// behind a jump host, a folder holding the socket of a forward on its connection (`host=FOLDER port=PORT`).
    public func socketFolder(to address: String, port: Int) async throws -> String? {
        guard let forwarding else { return nil }
        return try await forwarding(address, port)
    }

    /// The machine Setpoint runs on.
    public static let local = HostAccess(host: nil, address: nil, runner: LocalRunner(), files: LocalFiles())

    public var isLocal: Bool { host == nil }

    /// For messages: `this machine`, `Host/pg-2 (10.0.0.12:22)`.
    public var name: String {
        host.map { "Host/\($0) \(files.hostName.split(separator: " ").last ?? "")" } ?? files.hostName
    }
}

extension ProviderContext {
    /// The commands and files of the Host named by `runsOn` (this machine when nil), through this run's sessions.
    /// Throws, naming `resource` and the Host, when the Host is not declared or cannot be reached.
    public func host(_ runsOn: String?, for resource: ResourceID) async throws -> HostAccess {
        guard let runsOn else { return .local }
        guard let pool = hosts as? HostSessionPool else {
            throw SetpointError(
                .observeFailed,
                "runs on Host/\(runsOn), but this run keeps no sessions to other hosts",
                resource: resource
            )
        }
        return try await pool.access(runsOn, context: self, for: resource)
    }

    /// Whether the Host `runsOn` names is behind a jump host (its `ssh.jump`), read from the manifests: Setpoint's own
    /// SQL and HTTP to it then go through a forward on its connection. No connection is opened to find out.
    public func isBehindJump(_ runsOn: String?) -> Bool {
        guard let runsOn else { return false }
        return HostSpec.named(runsOn, in: declared)?.ssh.jump != nil
    }

    /// The address of a declared Host, without connecting to it (nil when it is not declared).
    public func address(ofHost name: String) -> String? {
        HostSpec.named(name, in: declared)?.address
    }
}

/// The run's sessions to its Hosts: one master ssh per Host, opened on first use and shared by every resource on that
/// host, each in a private folder keyed by the Host's settings and key (a rotated key or pin never reuses an old
/// master). A Host that could not be reached fails every use alike until ``refresh()``; the controller refreshes once
/// per pass, so a master that died is replaced and a host that came back is tried again.
public final class HostSessionPool: HostSessions {
    /// One Host's session: the connecting task, and its outcome once known (read without waiting).
    final class Session: Sendable {
        let identity: String
        let outcome = Mutex<Result<HostConnection, any Error>?>(nil)
        let task: Mutex<Task<HostConnection, any Error>?> = Mutex(nil)

        init(identity: String) { self.identity = identity }

        func start(_ name: String, context: ProviderContext, maxSessions: Int, multiplex: Bool) {
            let t = Task<HostConnection, any Error> {
                let result: Result<HostConnection, any Error>
                do {
                    // Its folder, pins and key are written on a thread of its own: file I/O never blocks the pool.
                    let trust = try await HostConnection.trust(of: name, context: context)
                    let connection = try await onOwnThread("setpoint-ssh-setup") {
                        try HostConnection(
                            name,
                            context: context,
                            maxSessions: maxSessions,
                            multiplex: multiplex,
                            trusted: trust.trusted,
                            acceptNew: trust.acceptNew
                        )
                    }
                    do {
                        try await connection.connect()
                        // A key accepted on first use is recorded before the connection is used; failing that, not used.
                        try await connection.recordAcceptedKeys(context: context)
                        result = .success(connection)
                    } catch {
                        await connection.runner.close()
                        _ = try? await onOwnThread("setpoint-ssh-remove") { connection.remove() }
                        result = .failure(error)
                    }
                } catch {
                    result = .failure(error)
                }
                self.outcome.withLock { $0 = result }
                return try result.get()
            }
            task.withLock { $0 = t }
        }

        var value: HostConnection {
            get async throws {
                guard let t = task.withLock({ $0 }) else { throw CancellationError() }
                return try await t.value
            }
        }

        /// Closes the master and removes the folder, once connecting has finished.
        func end() async {
            guard let connection = try? await value else { return }
            await connection.runner.close()
            _ = try? await onOwnThread("setpoint-ssh-remove") { connection.remove() }
        }
    }

    private let sessions = Mutex<[String: Session]>([:])
    let maxSessions: Int
    let multiplex: Bool
    /// The sweep of folders left by killed runs, done once before this pool's first connection.
    private let swept = Mutex<Task<Void, Never>?>(nil)

    /// `maxSessions`: commands at once on one host's connection, below its sshd's `MaxSessions` (10 by default).
    /// `multiplex`: false opens a connection per command (`SETPOINT_SSH_MULTIPLEX=off`), for hosts whose sshd allows
    /// one session per connection.
    public init(maxSessions: Int = 8, multiplex: Bool = true) {
        self.maxSessions = maxSessions
        self.multiplex = multiplex
    }

    /// The pool `SETPOINT_SSH_MULTIPLEX` asks for (`off`, `0` or `no` turns multiplexing off).
    public static func fromEnvironment(_ environment: [String: String]) -> HostSessionPool {
        HostSessionPool(
            multiplex: !["off", "0", "no", "false"].contains(environment["SETPOINT_SSH_MULTIPLEX"]?.lowercased() ?? "")
        )
    }

    func access(_ name: String, context: ProviderContext, for resource: ResourceID) async throws -> HostAccess {
        await swept.withLock { t in
            if t == nil { t = Task { await HostConnection.sweep() } }
            return t!
        }.value
        let identity: String
        do { identity = try Self.identity(of: name, context: context) } catch let error as SetpointError {
            // The resource that names the Host: where the manifest must change.
            throw SetpointError(error.code, error.message, resource: resource)
        }
        let (session, replaced) = sessions.withLock { all -> (Session, Session?) in
            if let found = all[name], found.identity == identity { return (found, nil) }
            let fresh = Session(identity: identity)
            fresh.start(name, context: context, maxSessions: maxSessions, multiplex: multiplex)
            defer { all[name] = fresh }
            return (fresh, all[name])
        }
        if let replaced { await replaced.end() }
        let connection: HostConnection
        do { connection = try await session.value } catch let error as SetpointError {
            // The message names the Host; the resource that wanted it is named by whoever reports the error.
            throw SetpointError(error.code, error.message, isTransient: true)
        }
        let tunnel: @Sendable (String, Int) async throws -> String = { @Sendable address, port in
            try await connection.forward(to: address, port: port)
        }
        let forwarding = connection.target.jump != nil ? tunnel : nil
        return HostAccess(
            host: name,
            address: connection.target.address,
            runner: connection.runner,
            files: SSHFiles(runner: connection.runner),
            forwarding: forwarding,
            tunneling: tunnel
        )
    }

    /// What makes a session: the Host's settings and those of its jump hosts, and the key's text (by digest).
    static func identity(of name: String, context: ProviderContext) throws -> String {
        var parts: [String] = []
        var next: String? = name
        var seen: Set<String> = []
        while let current = next, seen.insert(current).inserted {
            guard let resource = context.declared[ResourceID(kind: .host, name: current)] else {
                throw SetpointError(
                    .observeFailed,
                    "Host/\(current) is not declared: add it, or name a declared Host in runsOn"
                )
            }
            parts.append(CanonicalJSON.encode(resource.spec))
            let spec = try resource.decodeSpec(HostSpec.self)
            if let key = spec.ssh.privateKey {
                // A key that cannot be read now is an error, not another identity (which would end the session in use).
                parts.append(SHA256.hex(try context.secrets.resolve(key)))
            }
            next = spec.ssh.jump
        }
        return SHA256.hex(parts.joined(separator: "\n"))
    }

    public func refresh() async {
        let stale = sessions.withLock { all -> [Session] in
            var out: [Session] = []
            for (name, session) in all {
                switch session.outcome.withLock({ $0 }) {
                case nil: continue  // still connecting
                case .success(let c)? where c.runner.hasLiveMaster || !c.multiplex: continue
                default:
                    out.append(session)
                    all[name] = nil
                }
            }
            return out
        }
        for s in stale { await s.end() }
    }

    public func close() async {
        let all = sessions.withLock { all -> [Session] in
            defer { all = [:] }
            return Array(all.values)
        }
        for s in all { await s.end() }
    }

}

extension HostAccess {
    /// Runs `body` with `text` in a 0600 file on the host, owned by `user`, in a private folder of its own that is
    /// removed afterwards: how a password reaches a tool there (a passfile) without an argv or an environment.
    public func withSecretFile<T: Sendable>(
        _ text: String,
        user: String?,
        _ body: (String) async throws -> T
    ) async throws -> T {
        let made = try await runner.run(
            Command("/usr/bin/mktemp", ["-d", "/tmp/setpoint-secret.XXXXXXXX"], user: user, timeout: .seconds(30)),
            allowFailure: false
        )
        let folder = made.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        guard folder.hasPrefix("/tmp/setpoint-secret.") else {
            throw HostFileFailure(host: files.hostName, path: "/tmp", reason: "mktemp said \(made.stdout)")
        }
        let runner = runner
        func cleanUp() async {
            // In a task of its own: a cancelled caller (its session slot refused) must not skip the removal.
            await Task {
                _ = try? await runner.run(
                    Command("/bin/rm", ["-rf", "--", folder], user: user, timeout: .seconds(30)),
                    allowFailure: true
                )
            }.value
        }
        do {
            let file = folder + "/secret"
            // Written by the user itself (runuser here, sudo there), so the file is its own: libpq reads a passfile only
            // when it is 0600 and the reader's.
            _ = try await runner.run(
                Command(
                    "/bin/sh",
                    ["-c", "umask 077; exec cat > \"$1\"", "sh", file],
                    user: user,
                    timeout: .seconds(30),
                    input: text
                ),
                allowFailure: false
            )
            let result = try await body(file)
            await cleanUp()
            return result
        } catch {
            await cleanUp()
            throw error
        }
    }
}

extension HostAccess {
    /// Runs `body` with a libpq passfile holding `password` for any host, port, database and user (`*:*:*:*:…`), or
    /// with nil when there is no password; the file is the secret file of ``withSecretFile(_:user:_:)``.
    public func withPassfile<T: Sendable>(
        _ password: String?,
        user: String?,
        _ body: (String?) async throws -> T
    ) async throws -> T {
        guard let password else { return try await body(nil) }
        return try await withSecretFile(try passfile(password), user: user) { try await body($0) }
    }

    /// A libpq passfile's text for `password`, any host, port, database and user (`*:*:*:*:…`, `:` and `\` escaped).
    public func passfile(_ password: String) throws -> String {
        guard !password.contains(where: \.isNewline) else {
            throw HostFileFailure(
                host: files.hostName,
                path: "(passfile)",
                reason: "a password with a line break cannot be written to a libpq passfile: choose one without"
            )
        }
        let escaped = password.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: ":", with: "\\:")
        return "*:*:*:*:\(escaped)\n"
    }
}

extension HostAccess {
    /// The host's files acting as the owner of `path` (or, for a file not there yet, of its folder) unless that owner
    /// is root: a service's own user (postgres, prometheus), which the sudoers line of `docs/hosts.md` lets Setpoint
    /// become. On this machine, this process's files.
    public func filesOwning(_ path: String) async throws -> any HostFiles {
        guard !isLocal else { return files }
        var owner = try await files.stat(path)?.owner
        if owner == nil {
            let folder = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
            owner = try await files.stat(folder.isEmpty ? "/" : folder)?.owner
        }
        return files.acting(as: owner == "root" ? nil : owner)
    }

    /// Runs `tool ARGS FILE` on the host with `text` in a private temporary file there named `fileName` (what the
    /// tool's messages show); the file is removed afterwards. nil when the tool is not installed on the host.
    public func check(
        _ tool: String,
        _ arguments: [String],
        text: String,
        fileName: String
    ) async throws -> (ok: Bool, output: String)? {
        // One command on the host: a private folder, the text from stdin into it, the tool, and the folder removed on
        // the way out whatever happens (the text can hold secrets: Alertmanager's configuration).
        let script = """
            tool=$1 name=$2
            shift 2
            command -v "$tool" >/dev/null || exit 127
            folder=$(mktemp -d /tmp/setpoint-check.XXXXXXXX) || exit 126
            trap 'rm -rf -- "$folder"' EXIT
            cat >"$folder/$name"
            "$tool" "$@" "$folder/$name" 2>&1
            """
        let out = try await runner.run(
            Command("/bin/sh", ["-c", script, "sh", tool, fileName] + arguments, timeout: .seconds(60), input: text),
            allowFailure: true
        )
        let said = out.stdout + "\n" + out.stderr
        let file = try NSRegularExpression(pattern: "/tmp/setpoint-check\\.[A-Za-z0-9]+/")
        if out.status == 127 { return nil }
        let shown = file.stringByReplacingMatches(
            in: said,
            range: NSRange(said.startIndex..., in: said),
            withTemplate: ""
        )
        return (out.status == 0, shown)
    }
}
