public import Foundation

/// What a launched process wrote (standard output and error together), as it arrives.
public final class ProcessOutput: @unchecked Sendable {
    private let lock = NSLock()
    private var text = ""

    public init() {}

    public func append(_ s: String) {
        lock.lock()
        text += s
        lock.unlock()
    }

    public var value: String {
        lock.lock()
        defer { lock.unlock() }
        return text
    }

    /// Waits until the output holds `text`; false when it never does within `seconds`.
    public func waitFor(_ text: String, seconds: Double = 20) async -> Bool {
        for _ in 0..<Int(seconds * 20) where !value.contains(text) { try? await Task.sleep(for: .milliseconds(50)) }
        return value.contains(text)
    }
}

/// The `setpoint` binary the tests were built beside, as a process of its own.
public enum LaunchedProcess {
    public static var setpointBinary: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("setpoint")
    }

    /// `setpoint ARGUMENTS…` with exactly this environment (plus PATH), its output collected (``ChildProcess/output``).
    public static func setpoint(
        _ arguments: [String],
        environment: [String: String]
    ) throws -> (ChildProcess, ProcessOutput) {
        let child = try ChildProcess.start([setpointBinary.path] + arguments, environment: environment)
        return (child, child.output)
    }
}
