import Foundation
import Logging
import SetpointCore
import Synchronization

/// The CLI's logger: to stderr, at the level of `SETPOINT_LOG_LEVEL` (trace … critical; default warning), as text or,
/// with `SETPOINT_LOG_FORMAT=json` (or `setpoint controller --log-format json`), one JSON object a line.
enum CLILog {
    /// Set before the first logger is made (the controller's `--log-format`); the environment decides otherwise.
    static let format = Mutex<String?>(nil)

    static let bootstrapped: Bool = {
        let environment = ProcessInfo.processInfo.environment
        let level = environment["SETPOINT_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        let json = (format.withLock { $0 } ?? environment["SETPOINT_LOG_FORMAT"]) == "json"
        LoggingSystem.bootstrap { label in
            if json {
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
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

/// One JSON object a line on stderr: `time`, `level`, `logger`, `message`, and the metadata (plan id, resource …) as
/// fields, for log shippers (Loki, ELK).
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    /// Line times come from it.
    var clock: any SetpointClock = SystemClock()

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(
        level: Logger.Level,
        message: Logger.Message,
        metadata explicit: Logger.Metadata?,
        source: String,
        file: String,
        function: String,
        line: UInt
    ) {
        var fields: [String: String] = [:]
        for (k, v) in metadata.merging(explicit ?? [:], uniquingKeysWith: { _, b in b }) { fields[k] = "\(v)" }
        fields["time"] = Timestamp.milliseconds(clock.now)
        fields["level"] = level.rawValue
        fields["logger"] = label
        fields["message"] = message.description
        guard
            let data = try? JSONSerialization.data(
                withJSONObject: fields,
                options: [.sortedKeys, .withoutEscapingSlashes]
            )
        else { return }
        FileHandle.standardError.write(data + Data("\n".utf8))
    }
}
