import Foundation
import Synchronization

/// Where commands write, and what they know about the terminal. The real one writes to stdout/stderr; tests
/// capture output with `Console.capturing()`.
public final class Console: Sendable {
    /// True when stdout is a terminal (colour and live lines are allowed).
    public let isTerminal: Bool
    public let environment: [String: String]
    private let sink: Mutex<(out: String, err: String)>
    private let capture: Bool

    private init(isTerminal: Bool, environment: [String: String], capture: Bool) {
        self.isTerminal = isTerminal
        self.environment = environment
        self.capture = capture
        self.sink = Mutex(("", ""))
    }

    /// The process's own stdout and stderr.
    public static func standard() -> Console {
        Console(
            isTerminal: isatty(STDOUT_FILENO) == 1,
            environment: ProcessInfo.processInfo.environment,
            capture: false
        )
    }

    /// A console that keeps what is written, for tests.
    public static func capturing(isTerminal: Bool = false, environment: [String: String] = [:]) -> Console {
        Console(isTerminal: isTerminal, environment: environment, capture: true)
    }

    public func out(_ text: String) {
        if capture { sink.withLock { $0.out += text } } else { FileHandle.standardOutput.write(Data(text.utf8)) }
    }

    public func err(_ text: String) {
        if capture { sink.withLock { $0.err += text } } else { FileHandle.standardError.write(Data(text.utf8)) }
    }

    /// What was written to stdout (capturing consoles only).
    public var capturedOut: String { sink.withLock { $0.out } }
    /// What was written to stderr (capturing consoles only).
    public var capturedErr: String { sink.withLock { $0.err } }
}
