import Foundation
import Synchronization

/// Reads lines of manifest files for diagnostic snippets, each file once.
final class SourceLines: Sendable {
    private let cache = Mutex<[String: [Substring]]>([:])

    func line(_ file: String, _ number: Int) -> String? {
        let lines = cache.withLock { cache -> [Substring] in
            if let lines = cache[file] { return lines }
            let text = (FileManager.default.contents(atPath: file)).map { String(decoding: $0, as: UTF8.self) } ?? ""
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
                $0.hasSuffix("\r") ? $0.dropLast() : $0
            }
            cache[file] = lines
            return lines
        }
        guard number >= 1, number <= lines.count else { return nil }
        return String(lines[number - 1])
    }
}
