import Foundation
import SetpointCore

/// The JSON a store keeps for a `BackupRun` (sorted keys, so equal runs are equal text).
enum BackupRunCoding {
    static func encode(_ run: BackupRun) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(run), as: UTF8.self)
    }

    static func decode(_ text: String) -> BackupRun? {
        try? JSONDecoder().decode(BackupRun.self, from: Data(text.utf8))
    }
}
