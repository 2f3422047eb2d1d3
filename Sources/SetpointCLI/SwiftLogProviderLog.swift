import Logging
import SetpointCore

/// A provider log on swift-log.
struct SwiftLogProviderLog: ProviderLog {
    let logger: Logger

    func log(_ level: ProviderLogLevel, _ message: String, metadata: [String: String]) {
        let l: Logger.Level =
            switch level {
            case .debug: .debug
            case .info: .info
            case .notice: .notice
            case .warning: .warning
            case .error: .error
            }
        logger.log(level: l, "\(message)", metadata: metadata.mapValues { .string($0) })
    }
}
