import Foundation
import SetpointCore
import SetpointPG

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
