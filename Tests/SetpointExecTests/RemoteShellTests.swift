import Foundation
import SetpointExec
import SetpointTesting
import Testing

/// Argv quoted for a remote login shell arrives byte for byte: hostile arguments go through real shells (dash as
/// /bin/sh, and bash) and come back as they were sent.
@Suite(.timeLimit(.minutes(2))) struct RemoteShellTests {
    static let fragments = [
        "'", "\"", "$(id)", "`id`", ";", "\n", "*", "?", "[a]", "-rf", "--", " ", "\t", "\\", "é", "中", "😀", "~", "&&",
        "|", ">", "<", "#", "!", "{a,b}", "$HOME", "%s", "", "'\\''", "$'x'", "\r", "\u{7f}", "a=b", "${IFS}",
    ]

    /// Random argv of 1 … 6 arguments, each 0 … 5 fragments.
    static func argvs(count: Int, seed: UInt64) -> [[String]] {
        var state = seed
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(state >> 33)
        }
        return (0..<count).map { _ in
            (0..<(1 + next() % 6)).map { _ in
                (0..<(next() % 6)).map { _ in fragments[next() % fragments.count] }.joined()
            }
        }
    }

    @Test(arguments: ["/bin/sh", "/bin/bash"])
    func hostileArgumentsComeBackByteForByte(shell: String) async throws {
        let batch = Self.argvs(count: 150, seed: 20)
        // One shell run per argv would be slow: each line prints one argv, NUL-separated, then a record separator.
        let script = try batch.map { "printf '%s\\0' " + (try RemoteShell.commandLine($0)) + "; printf '\\036'" }
            .joined(separator: "\n")
        let result = try #require(await ExternalTool.run(shell, ["-c", script]), "\(shell) did not start")
        #expect(result.status == 0, "\(result.stderr)")
        let records = result.stdout.split(separator: "\u{1e}", omittingEmptySubsequences: false).dropLast()
        #expect(records.count == batch.count)
        for (argv, record) in zip(batch, records) {
            let back = record.split(separator: "\0", omittingEmptySubsequences: false).dropLast().map(String.init)
            #expect(back == argv, "\(argv.debugDescription) came back as \(back.debugDescription)")
        }
    }

    @Test func aNULCannotBeCarried() {
        #expect(throws: RemoteShell.Unquotable.self) { try RemoteShell.commandLine(["ok", "bad\0byte"]) }
    }
}
