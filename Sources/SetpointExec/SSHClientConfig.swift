import Foundation

/// The OpenSSH client configuration Setpoint writes for the hosts it reaches (`ssh -F FILE`), so nothing is read from
/// the operator's `~/.ssh` or `/etc/ssh/ssh_config`: batch mode (never a prompt), host keys checked strictly against
/// the pinned ones only, no agent or X11 forwarding, only the given key, keep-alives that notice a dead link, and one
/// master connection per host through a control socket.
public struct SSHClientConfig: Sendable, Equatable {
    /// One host as the configuration names it.
    public struct Host: Sendable, Equatable {
        /// The alias `ssh` is called with (the Host resource's name).
        public var alias: String
        public var address: String
        public var port: Int
        public var user: String
        /// The private key file (0600); nil with an agent.
        public var identityFile: String?
        /// An agent's socket, instead of a key file.
        public var agentSocket: String?
        /// The file of this host's pinned keys (`ADDRESS KEYTYPE BASE64`, `@cert-authority` lines).
        public var knownHostsFile: String
        public var connectTimeout: Duration
        /// The alias of the host to jump through (itself a `Host` of the same configuration).
        public var jump: String?
        /// The master connection's socket (in a private 0700 folder, named for host, key and pins).
        public var controlPath: String
        /// No key pinned or trusted yet, and this run may trust one (`ssh.trustOnFirstUse`): the key the host offers
        /// is accepted into `knownHostsFile` (`StrictHostKeyChecking accept-new`), never a changed one.
        public var acceptNewKey: Bool = false

        public init(
            alias: String,
            address: String,
            port: Int = 22,
            user: String,
            identityFile: String?,
            agentSocket: String? = nil,
            knownHostsFile: String,
            connectTimeout: Duration = .seconds(10),
            jump: String? = nil,
            controlPath: String
        ) {
            self.alias = alias
            self.address = address
            self.port = port
            self.user = user
            self.identityFile = identityFile
            self.agentSocket = agentSocket
            self.knownHostsFile = knownHostsFile
            self.connectTimeout = connectTimeout
            self.jump = jump
            self.controlPath = controlPath
        }
    }

    public var hosts: [Host]
    /// Seconds between keep-alives; three unanswered end the connection.
    public var serverAliveInterval: Int
    /// Commands share one master connection per host (`ControlMaster auto`); false: a connection per command, for
    /// hosts whose sshd allows one session per connection (`MaxSessions 1`).
    public var multiplex: Bool

    public init(hosts: [Host], serverAliveInterval: Int = 15, multiplex: Bool = true) {
        self.hosts = hosts
        self.serverAliveInterval = serverAliveInterval
        self.multiplex = multiplex
    }

    /// A value as `ssh_config` reads it: quoted when it holds a space or a quote (paths from manifests may).
    static func value(_ text: String) -> String {
        guard text.contains(where: { $0 == " " || $0 == "\"" || $0 == "\t" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// A path as `ssh_config` reads it: ssh expands `%` tokens in paths, so a literal `%` is written `%%`.
    static func path(_ text: String) -> String { value(text.replacingOccurrences(of: "%", with: "%%")) }

    /// The file's text. Every host gets its own block; nothing falls through to a `Host *` of someone else's.
    public var text: String {
        var out = "# Written by Setpoint for its own ssh runs (ssh -F): no other configuration is read.\n"
        for h in hosts {
            let seconds = max(1, Int(h.connectTimeout.components.seconds))
            var lines = [
                "HostName \(h.address)",
                "Port \(h.port)",
                "User \(Self.value(h.user))",
                "BatchMode yes",
                h.acceptNewKey ? "StrictHostKeyChecking accept-new" : "StrictHostKeyChecking yes",
                "UserKnownHostsFile \(Self.path(h.knownHostsFile))",
                "GlobalKnownHostsFile /dev/null",
                "CheckHostIP no",
                "UpdateHostKeys no",
                "ForwardAgent no",
                "ForwardX11 no",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "ConnectTimeout \(seconds)",
                "ServerAliveInterval \(serverAliveInterval)",
                "ServerAliveCountMax 3",
            ]
            lines +=
                multiplex
                ? ["ControlMaster auto", "ControlPath \(Self.path(h.controlPath))", "ControlPersist no"]
                : ["ControlMaster no", "ControlPath none"]
            if let key = h.identityFile {
                lines += ["IdentityFile \(Self.path(key))", "IdentitiesOnly yes", "IdentityAgent none"]
            } else if let agent = h.agentSocket {
                // The agent's keys only: /dev/null stands for "no key file", so ssh's default ~/.ssh/id_* are not read.
                lines += ["IdentityFile /dev/null", "IdentityAgent \(Self.path(agent))"]
            }
            if let jump = h.jump { lines.append("ProxyJump \(jump)") }
            out += "\nHost \(h.alias)\n" + lines.map { "    \($0)\n" }.joined()
        }
        return out
    }
}
