import Foundation
import SetpointCore
import SetpointExec
import SetpointRemote

/// `promtool check rules` and `amtool check-config` on what Setpoint would write, before anything is written; their
/// complaints become diagnostics at the manifest's positions.
struct ToolChecks: Sendable {
    let runner: any CommandRunner
    let environment: [String: String]

    var isCI: Bool { ["true", "1", "yes"].contains((environment["CI"] ?? "").lowercased()) }

    /// The tool's path, or nil when it is not on the PATH.
    func which(_ tool: String) -> String? {
        for dir in (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let path = "\(dir)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    /// `tool ARGS FILE` on the service's host (that host's tool and version; this machine's when it is local), or nil
    /// when the tool is not installed there (not checked).
    func run(
        on access: HostAccess,
        _ tool: String,
        _ arguments: [String],
        text: String,
        fileName: String
    ) async throws -> (ok: Bool, output: String)? {
        guard access.isLocal else { return try await access.check(tool, arguments, text: text, fileName: fileName) }
        guard let path = which(tool) else { return nil }
        let r = try await run(path, arguments, text: text, fileName: fileName)
        return (r.ok, r.output)
    }

    /// A missing tool: a warning, or an error under CI=true (a check that silently did not run proves nothing).
    func missing(_ tool: String, package: String, for resource: Resource) -> Diagnostic {
        Diagnostic(
            isCI ? .error : .warning,
            .toolMissing,
            "\(tool) is not on the PATH: not checked",
            hint: "install \(package) (apt-get install \(package)); under CI=true a check that cannot run is an error",
            at: resource.location,
            resource: resource.id
        )
    }

    /// Runs `tool ARGS FILE` on `text` written to a private temporary file; returns the tool's output when it fails.
    func run(
        _ tool: String,
        _ arguments: [String],
        text: String,
        fileName: String
    ) async throws -> (ok: Bool, output: String, file: String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("setpoint-check-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(
            atPath: dir,
            withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700]
        )
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = "\(dir)/\(fileName)"
        try AtomicFile.write(text, to: file, mode: 0o600)
        let out = try await runner.run(Command(tool, arguments + [file], timeout: .seconds(60)), allowFailure: true)
        return (
            out.status == 0, (out.stdout + "\n" + out.stderr).replacingOccurrences(of: file, with: fileName), fileName
        )
    }

    /// promtool's `FILE: LINE:COL: group "g", rule N, "name": message` lines, as (rule index from 0, message).
    static func ruleErrors(_ output: String) -> [(rule: Int?, message: String)] {
        var out: [(Int?, String)] = []
        for raw in output.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            guard let range = line.range(of: "group \"") else { continue }
            let rest = line[range.lowerBound...]
            var rule: Int?
            if let r = rest.range(of: ", rule ") {
                let digits = rest[r.upperBound...].prefix { $0.isNumber }
                rule = Int(digits).map { $0 - 1 }
            }
            out.append((rule, String(rest)))
        }
        if out.isEmpty {
            let lines = output.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty && !$0.hasPrefix("Checking ") && $0 != "FAILED:" }
            if !lines.isEmpty { out.append((nil, lines.joined(separator: "; "))) }
        }
        return out
    }
}
