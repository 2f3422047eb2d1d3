import Foundation

/// What `pgbackrest info --output=json` says of one stanza, decoded leniently: a wrong passphrase puts invalid
/// UTF-8 into its messages, and the status code still tells what happened.
struct StanzaInfo: Sendable, Equatable {
    struct Backup: Sendable, Equatable, Codable {
        var label: String
        /// full, diff or incr.
        var type: String
        var started: Double
        var stopped: Double
        var databaseBytes: Int64
        var deltaBytes: Int64
        var repositoryBytes: Int64
        var repositoryDeltaBytes: Int64
        var error: Bool
        var prior: String?
    }

    /// 0 ok, 1 missing stanza path, 2 no valid backups, 3 missing stanza data, 99 other (an unreadable repository).
    var statusCode: Int
    var statusMessage: String
    var cipher: String?
    var backups: [Backup]
    var backupRunning: Bool
    var archiveMin: String?
    var archiveMax: String?

    var stanzaExists: Bool { statusCode == 0 || statusCode == 2 }

    static func decode(_ text: String, stanza: String) -> StanzaInfo {
        var info = StanzaInfo(
            statusCode: 99,
            statusMessage: "unreadable info output",
            cipher: nil,
            backups: [],
            backupRunning: false
        )
        guard let list = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]],
            let s = list.first(where: { $0["name"] as? String == stanza }) ?? list.first
        else { return info }
        if let status = s["status"] as? [String: Any] {
            info.statusCode = (status["code"] as? NSNumber)?.intValue ?? 99
            info.statusMessage = status["message"] as? String ?? "?"
            if let lock = status["lock"] as? [String: Any], let backup = lock["backup"] as? [String: Any] {
                info.backupRunning = (backup["held"] as? Bool) ?? false
            }
        }
        info.cipher = s["cipher"] as? String
        if let archives = s["archive"] as? [[String: Any]], let a = archives.last {
            info.archiveMin = a["min"] as? String
            info.archiveMax = a["max"] as? String
        }
        for b in (s["backup"] as? [[String: Any]]) ?? [] {
            let ts = b["timestamp"] as? [String: Any]
            let i = b["info"] as? [String: Any]
            let repo = i?["repository"] as? [String: Any]
            func n(_ v: Any?) -> Int64 { (v as? NSNumber)?.int64Value ?? 0 }
            info.backups.append(
                Backup(
                    label: b["label"] as? String ?? "?",
                    type: b["type"] as? String ?? "?",
                    started: (ts?["start"] as? NSNumber)?.doubleValue ?? 0,
                    stopped: (ts?["stop"] as? NSNumber)?.doubleValue ?? 0,
                    databaseBytes: n(i?["size"]),
                    deltaBytes: n(i?["delta"]),
                    repositoryBytes: n(repo?["size"]),
                    repositoryDeltaBytes: n(repo?["delta"]),
                    error: (b["error"] as? Bool) ?? false,
                    prior: b["prior"] as? String
                )
            )
        }
        return info
    }
}
