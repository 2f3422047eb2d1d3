import Foundation
import Logging

/// The CLI's logger: to stderr, at the level of `SETPOINT_LOG_LEVEL` (trace … critical; default warning).
enum CLILog {
    static let bootstrapped: Bool = {
        let level = ProcessInfo.processInfo.environment["SETPOINT_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        return true
    }()

    static func logger(_ label: String) -> Logger {
        _ = bootstrapped
        return Logger(label: "setpoint.\(label)")
    }
}
