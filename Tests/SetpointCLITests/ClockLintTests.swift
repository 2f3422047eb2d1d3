import Foundation
import SetpointTesting
import Testing

/// Every time read and sleep goes through the one injected clock (`SetpointClock`): no `Date()`, `Date.now`,
/// `ContinuousClock`, `Task.sleep` or thread sleeps anywhere else in the sources, so that tests can run schedules,
/// backoff and expiry on a `ManualClock`.
@Suite(.timeLimit(.minutes(1))) struct ClockLintTests {
    /// What reads the machine's clock or waits on it.
    static let forbidden = [
        #"(^|[^A-Za-z0-9_.])Date\(\)"#, #"Date\.now"#, #"ContinuousClock\.now"#, #"ContinuousClock\(\)"#,
        #"SuspendingClock"#, #"Task\.sleep"#,
        #"Thread\.sleep"#, #"(^|[^A-Za-z0-9_.])usleep\("#, #"timeIntervalSinceNow"#, #"Date\(timeIntervalSinceNow"#,
    ]

    /// Where the machine's time is the point, with why. Everything else takes the clock.
    static let exceptions: [String: String] = [
        "Sources/SetpointCore/Time/SetpointClock.swift": "the system clock itself",
        "Sources/SetpointExec/LocalRunner.swift":
            "a child process's timeout: a real process runs in real time (on the runner's own thread)",
        "Sources/SetpointExec/SSHRunner.swift":
            "waiting for a real ssh master's control socket, which answers in real time",
        "Sources/SetpointController/ConnectionGuard.swift":
            "the HTTP server's connection deadlines against real sockets, on NIO's event loop",
        "Sources/SetpointCLI/SignalTrap.swift": "the signal thread's poll, outside any task",
        "Sources/SetpointTesting/ChildProcess.swift": "tests waiting for real processes",
        "Sources/SetpointTesting/LaunchedProcess.swift": "tests waiting for real processes' output",
        // The Proxmox VE simulator plays another system, with its own time (task durations).
        "Sources/PVESim": "the simulator's own time", "Sources/pve-sim": "the simulator's own time",
    ]

    @Test func noTimeIsReadOutsideTheClock() throws {
        let root = RepoPaths.path("Sources")
        let walker = try #require(FileManager.default.enumerator(atPath: root))
        let patterns = try Self.forbidden.map { try Regex($0) }
        var checked = 0
        for case let name as String in walker where name.hasSuffix(".swift") {
            let path = "Sources/" + name
            if Self.exceptions.keys.contains(where: { path == $0 || path.hasPrefix($0 + "/") }) { continue }
            let text = try String(contentsOfFile: root + "/" + name, encoding: .utf8)
            checked += 1
            for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let code = line.split(separator: "//", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
                for pattern in patterns where code.contains(pattern) {
                    Issue.record(
                        "\(path):\(n + 1) reads the machine's clock: \(line.trimmingCharacters(in: .whitespaces)) — take the injected SetpointClock (clock.now, clock.elapsed, clock.sleep(for:))"
                    )
                }
            }
        }
        #expect(checked > 150, "the sources were found")
    }

    @Test func theLintFindsWhatItLooksFor() throws {
        let patterns = try Self.forbidden.map { try Regex($0) }
        for line in ["let t = Date()", "x = Date.now", "try await Task.sleep(for: .seconds(1))", "ContinuousClock.now"]
        {
            #expect(patterns.contains { line.contains($0) }, "\(line)")
        }
        for line in ["let t = clock.now", "try await clock.sleep(for: .seconds(1))", "let d = StoredDate()"] {
            #expect(!patterns.contains { line.contains($0) }, "\(line)")
        }
    }
}
