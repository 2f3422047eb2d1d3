import Foundation

/// Runs an external program (python3, promtool …) for tests and captures its output, through ``ChildProcess`` (its own
/// descriptors only, waited for off the cooperative pool).
public enum ExternalTool {
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Runs `executable` (looked up on PATH) with arguments; nil when it cannot be started.
    public static func run(_ executable: String, _ arguments: [String], input: String? = nil) async -> Result? {
        guard let r = try? await ChildProcess.run(["/usr/bin/env", executable] + arguments, input: input) else {
            return nil
        }
        return Result(status: r.status, stdout: r.stdout, stderr: r.stderr)
    }

    /// True when python3 can import every module named.
    public static func pythonHas(_ modules: [String]) async -> Bool {
        await run("python3", ["-c", "import " + modules.joined(separator: ", ")])?.status == 0
    }

    /// True when running under CI (`CI=true`): missing tools are failures there, never skips.
    public static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }
}
