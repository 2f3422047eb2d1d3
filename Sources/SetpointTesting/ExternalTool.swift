import Foundation

/// Runs an external program (python3, promtool …) for tests and captures its output.
public enum ExternalTool {
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Runs `executable` (looked up on PATH) with arguments; nil when it cannot be started.
    public static func run(_ executable: String, _ arguments: [String], input: String? = nil) -> Result? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        let out = Pipe(), err = Pipe(), inPipe = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = inPipe
        do { try process.run() } catch { return nil }
        if let input { inPipe.fileHandleForWriting.write(Data(input.utf8)) }
        try? inPipe.fileHandleForWriting.close()
        // Read both pipes concurrently so a chatty child cannot block on a full pipe.
        let errData = ReadBox()
        let reader = Thread { errData.data = err.fileHandleForReading.readDataToEndOfFile() }
        reader.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !errData.done { usleep(1000) }
        return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData.data ?? Data(), as: UTF8.self))
    }

    private final class ReadBox: @unchecked Sendable {
        private let lock = NSLock()
        private var _data: Data?
        private var _done = false
        var data: Data? {
            get { lock.withLock { _data } }
            set { lock.withLock { _data = newValue; _done = true } }
        }
        var done: Bool { lock.withLock { _done } }
    }

    /// True when python3 can import every module named.
    public static func pythonHas(_ modules: [String]) -> Bool {
        run("python3", ["-c", "import " + modules.joined(separator: ", ")])?.status == 0
    }

    /// True when running under CI (`CI=true`): missing tools are failures there, never skips.
    public static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }
}
