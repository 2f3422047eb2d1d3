import Foundation
import SetpointCore
import SetpointExec

/// A pgBackRest command that failed, quoting pgBackRest's own `ERROR: [NNN]: …` lines and hints.
struct PgBackRestFailure: Error, CustomStringConvertible {
    var command: String
    var status: Int32
    var message: String

    var description: String { "pgbackrest \(command) exited \(status): \(message)" }

    /// pgBackRest's error code (`[082]` → 82), when the message has one.
    var code: Int? {
        guard let open = message.range(of: "ERROR: ["), let close = message[open.upperBound...].firstIndex(of: "]")
        else { return nil }
        return Int(message[open.upperBound..<close])
    }
}

/// Runs pgBackRest for one stanza as the cluster's OS user, always with the stanza's own configuration and include
/// directory: never `/etc/pgbackrest.conf`, never a secret on a command line.
struct PgBackRest: Sendable {
    let runner: any CommandRunner
    let settings: BackupSettings

    func command(_ name: String, _ options: [String] = [], timeout: Duration = .seconds(600)) -> Command {
        Command(
            "pgbackrest",
            [
                "--config=\(settings.configFile)", "--config-include-path=\(settings.includeDirectory)",
                "--stanza=\(settings.stanza)",
                "--log-level-console=info", "--log-level-stderr=error",
            ] + options + [name],
            user: settings.osUser,
            timeout: timeout
        )
    }

    /// Runs a command; a non-zero exit throws with pgBackRest's message. Returns stdout (INFO/WARN lines).
    @discardableResult
    func run(_ name: String, _ options: [String] = [], timeout: Duration = .seconds(600)) async throws -> String {
        let out = try await runner.run(command(name, options, timeout: timeout), allowFailure: true)
        guard out.status == 0 else {
            throw PgBackRestFailure(
                command: name,
                status: out.status,
                message: Self.errorText(stderr: out.stderr, stdout: out.stdout)
            )
        }
        return out.stdout
    }

    /// The `ERROR:`/`HINT:` lines pgBackRest wrote (stderr first), and the `WARN:` lines before them (where a remote
    /// host's cause is: `unable to check pg1: [CryptoError] …`), without timestamps; the stderr text when none match.
    static func errorText(stderr: String, stdout: String) -> String {
        let lines = (stderr + "\n" + stdout).split(separator: "\n").map { line -> String in
            // stdout lines start "YYYY-MM-DD HH:MM:SS.mmm P00  ERROR: …".
            if let r = line.range(of: "ERROR: ") ?? line.range(of: "HINT: ") ?? line.range(of: "WARN: ") {
                return String(line[r.lowerBound...])
            }
            return String(line)
        }
        let errors = lines.filter { $0.hasPrefix("ERROR: ") || $0.hasPrefix("HINT: ") }
        let wanted = errors.isEmpty ? [] : lines.filter { $0.hasPrefix("WARN: ") } + errors
        var seen = Set<String>()
        let unique = wanted.filter { seen.insert($0).inserted }
        if !unique.isEmpty { return unique.joined(separator: " / ") }
        let text = stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "no message (see \(stdout.suffix(300)))" : String(text.suffix(600))
    }

    /// `info --output=json` for the stanza. pgBackRest exits 0 even when the stanza is unreadable; the status says so.
    func info() async throws -> StanzaInfo {
        let out = try await runner.run(command("info", ["--output=json"], timeout: .seconds(60)), allowFailure: true)
        guard out.status == 0 else {
            throw PgBackRestFailure(
                command: "info",
                status: out.status,
                message: Self.errorText(stderr: out.stderr, stdout: out.stdout)
            )
        }
        return StanzaInfo.decode(out.stdout, stanza: settings.stanza)
    }
}
