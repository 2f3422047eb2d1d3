import Foundation
import SetpointCore
import SetpointPG
import SetpointRemote

/// The pgBackRest configuration Setpoint writes for a stanza, and what it reads back from one.
///
/// Retention, compression and the cipher type live in the file, not on command lines: pgBackRest refuses command-line
/// options a command does not take (`info --repo1-retention-full` is `ERROR: [031]`). Secrets go to the include
/// file only (0600, the OS user's), which every command reads through `--config-include-path`.
enum PgBackRestConfig {
    static func render(_ s: BackupSettings, socketDirectory: String?) -> String {
        // The manifest's options (BackupFields), then the ones Setpoint always sets.
        let global = BackupFields.globalOptions(s) + [("start-fast", "y"), ("log-level-file", "info")]
        var stanza: [(String, String)] = [("pg1-path", s.cluster.dataDirectory), ("pg1-port", String(s.cluster.port))]
        if let socketDirectory { stanza.append(("pg1-socket-path", socketDirectory)) }
        if let user = s.cluster.connection.user { stanza.append(("pg1-user", user)) }
        var text = "# Written by Setpoint for BackupPolicy/\(s.id.name): edits are overwritten by the next apply.\n"
        text += "[global]\n" + global.map { "\($0)=\($1)\n" }.joined()
        text += "\n[\(s.stanza)]\n" + stanza.map { "\($0)=\($1)\n" }.joined()
        return text
    }

    /// A host's configuration in the TLS-server layout (`place`), or the local layout's (nil).
    static func render(
        _ s: BackupSettings,
        socketDirectory: String?,
        place: BackupHosts.Place?,
        hosts: BackupHosts
    ) -> String {
        guard let place, let tls = s.tls else { return render(s, socketDirectory: socketDirectory) }
        let folder = s.tlsDirectory
        // How this host reaches another one's server: `repo1-host…` or `pgN-host…`.
        func client(_ prefix: String, _ address: String) -> [(String, String)] {
            [
                ("\(prefix)-host", address), ("\(prefix)-host-type", "tls"), ("\(prefix)-host-port", String(tls.port)),
                ("\(prefix)-host-ca-file", "\(folder)/ca.crt"), ("\(prefix)-host-cert-file", "\(folder)/host.crt"),
                ("\(prefix)-host-key-file", "\(folder)/host.key"), ("\(prefix)-host-config", s.configFile),
                ("\(prefix)-host-config-include-path", s.includeDirectory),
            ]
        }
        func pg(_ index: Int, _ member: ClusterTarget.Member, local: Bool) -> [(String, String)] {
            var out = local ? [] : client("pg\(index)", member.address)
            out.append(("pg\(index)-path", member.dataDirectory ?? s.cluster.dataDirectory))
            out.append(("pg\(index)-port", String(member.port)))
            if local, let socketDirectory { out.append(("pg\(index)-socket-path", socketDirectory)) }
            if let user = s.cluster.connection.user { out.append(("pg\(index)-user", user)) }
            return out
        }
        let server: [(String, String)] = [
            ("tls-server-address", "*"), ("tls-server-port", String(tls.port)),
            ("tls-server-ca-file", "\(folder)/ca.crt"), ("tls-server-cert-file", "\(folder)/host.crt"),
            ("tls-server-key-file", "\(folder)/host.key"), ("tls-server-auth", "\(tls.clientName)=\(s.stanza)"),
        ]
        var global: [(String, String)]
        var stanza: [(String, String)] = []
        switch place.role {
        case .repository:
            global = BackupFields.globalOptions(s) + [("start-fast", "y"), ("log-level-file", "info")] + server
            let members = s.cluster.members.filter { $0.dataDirectory != nil }
            for (i, m) in members.enumerated() {
                stanza += pg(i + 1, m, local: m.runsOn == place.access.host)
            }
        case .database(let member):
            global =
                client("repo1", hosts.repositoryAddress)
                + [
                    ("compress-type", s.spec.compression ?? "lz4"), ("log-path", s.logDirectory),
                    ("log-level-file", "info"),
                ] + server
            stanza = pg(1, member, local: true)
        case .client:
            global =
                client("repo1", hosts.repositoryAddress)
                + [
                    ("compress-type", s.spec.compression ?? "lz4"), ("log-path", s.logDirectory),
                    ("log-level-file", "info"),
                ]
        }
        var text = "# Written by Setpoint for BackupPolicy/\(s.id.name): edits are overwritten by the next apply.\n"
        text += "[global]\n" + global.map { "\($0)=\($1)\n" }.joined()
        if !stanza.isEmpty { text += "\n[\(s.stanza)]\n" + stanza.map { "\($0)=\($1)\n" }.joined() }
        return text
    }

    /// The include file: secrets only. Nil when the policy has none (the directory stays, empty).
    static func renderSecrets(_ s: BackupSettings) -> String? {
        let lines = BackupFields.secrets(s).map { "\($0)=\($1)" }
        return lines.isEmpty ? nil : "[global]\n" + lines.map { $0 + "\n" }.joined()
    }

    /// `section → key → value` of an INI file as pgBackRest reads it (comments and blank lines skipped).
    static func parse(_ text: String) -> [String: [String: String]] {
        var out: [String: [String: String]] = [:]
        var section = ""
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("["), line.hasSuffix("]") {
                section = String(line.dropFirst().dropLast())
                continue
            }
            guard let eq = line.firstIndex(of: "=") else { continue }
            out[section, default: [:]][String(line[..<eq]).trimmingCharacters(in: .whitespaces)] =
                String(line[line.index(after: eq)...]).trimmingCharacters(in: .whitespaces)
        }
        return out
    }
}
