import Foundation

/// A tool to run: an executable and its arguments, never a shell string.
public struct Command: Sendable, Hashable, CustomStringConvertible {
    public var executable: String
    public var arguments: [String]
    /// Run as this OS user (PostgreSQL's tools refuse root: `runuser -u postgres --`).
    public var user: String?
    /// Added to the inherited environment.
    public var environment: [String: String]
    public var workingDirectory: String?
    /// Killed (SIGKILL) after this long.
    public var timeout: Duration?
    public var input: String?

    public init(
        _ executable: String,
        _ arguments: [String] = [],
        user: String? = nil,
        environment: [String: String] = [:],
        workingDirectory: String? = nil,
        timeout: Duration? = nil,
        input: String? = nil
    ) {
        self.executable = executable
        self.arguments = arguments
        self.user = user
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.timeout = timeout
        self.input = input
    }

    /// The argv as a shell would need it quoted, for messages (environment values are never shown: they may be secrets).
    public var description: String {
        var shown = arguments
        // A fixed script (`sh -c SCRIPT sh ARGS…`) shows as its first line: its arguments are what tells runs apart.
        if shown.count >= 2, shown[0] == "-c", shown[1].contains("\n") || shown[1].count > 60 {
            let line = shown[1].split(separator: "\n").first.map(String.init) ?? ""
            shown[1] = String(line.prefix(40)) + "…"
        }
        let argv = ([executable] + shown).map(Self.shellQuoted).joined(separator: " ")
        return user.map { "(as \($0)) " }.map { $0 + argv } ?? argv
    }

    static func shellQuoted(_ s: String) -> String {
        if !s.isEmpty, s.allSatisfy({ $0.isLetter || $0.isNumber || "-_./=:,@%+".contains($0) }) { return s }
        return RemoteShell.quote(s)
    }
}

/// What a finished command left.
public struct CommandOutput: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
    public var duration: Duration

    public init(status: Int32, stdout: String, stderr: String, duration: Duration) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
        self.duration = duration
    }
}

/// A command that did not succeed: its argv, exit status and the tail of what it said.
public struct CommandFailure: Error, Sendable, CustomStringConvertible {
    public var command: Command
    public var status: Int32?
    public var output: String
    public var reason: String

    public init(command: Command, status: Int32?, output: String, reason: String) {
        self.command = command
        self.status = status
        self.output = output
        self.reason = reason
    }

    public var description: String {
        let tail = output.split(separator: "\n", omittingEmptySubsequences: true).suffix(12).joined(separator: "\n    ")
        return "\(command) \(reason)" + (tail.isEmpty ? "" : ":\n    \(tail)")
    }
}

/// Runs commands: locally now; an SSH runner takes the same commands later.
public protocol CommandRunner: Sendable {
    /// Runs a command to its end. Throws `CommandFailure` when it cannot start, times out, or exits non-zero
    /// (unless `allowFailure`), quoting its output.
    func run(_ command: Command, allowFailure: Bool) async throws -> CommandOutput
}

extension CommandRunner {
    public func run(_ command: Command) async throws -> CommandOutput { try await run(command, allowFailure: false) }
}
