import Foundation
import SetpointTesting
import Testing

/// The suite itself must never hang: a time limit on every test, and no call that blocks one of the cooperative
/// pool's threads (two on this machine: two blocked tests starved every other one, and CI killed the run after 15
/// minutes). Processes are started through `ChildProcess`, which waits on threads of its own.
@Suite(.timeLimit(.minutes(2))) struct TestSuiteHygieneTests {
    /// Every Swift file of the tests and of the test library, with its text.
    static func sources() throws -> [(path: String, text: String)] {
        var out: [(String, String)] = []
        for folder in ["Tests", "Sources/SetpointTesting"] {
            let root = RepoPaths.path(folder)
            let walker = try #require(FileManager.default.enumerator(atPath: root))
            for case let name as String in walker where name.hasSuffix(".swift") {
                let path = root + "/" + name
                out.append((folder + "/" + name, try String(contentsOfFile: path, encoding: .utf8)))
            }
        }
        return out
    }

    @Test func everySuiteHasATimeLimitAndNoTestIsOutsideASuite() throws {
        let files = try Self.sources().filter { $0.path.hasPrefix("Tests/") }
        #expect(files.count > 50)
        for (path, text) in files {
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            for (n, line) in lines.enumerated() {
                if line.hasPrefix("@Suite") {
                    // The attribute up to its closing parenthesis (swift-format may spread it over several lines).
                    var attribute = ""
                    var depth = 0
                    for next in lines[n...] {
                        attribute += next + "\n"
                        depth += next.filter { $0 == "(" }.count - next.filter { $0 == ")" }.count
                        if depth <= 0 { break }
                    }
                    #expect(
                        attribute.contains(".timeLimit("),
                        "\(path):\(n + 1): a suite without a time limit: \(line)"
                    )
                }
                #expect(!line.hasPrefix("@Test"), "\(path):\(n + 1): a test outside a suite gets no time limit")
            }
        }
    }

    @Test func noTestBlocksACooperativeThread() throws {
        // What blocks a thread until another process acts: Foundation's Process and Pipe reads, sleeps, semaphores.
        let blocking = [
            "Process()", "Pipe()", "readDataToEndOfFile", "availableData", "waitUntilExit", "Thread.sleep", "usleep(",
            "DispatchSemaphore", "DispatchGroup",
        ]
        for (path, text) in try Self.sources()
        where !path.hasSuffix("/ChildProcess.swift") && !path.hasSuffix("/TestSuiteHygieneTests.swift") {
            for pattern in blocking {
                #expect(
                    !text.contains(pattern),
                    "\(path) uses \(pattern.trimmingCharacters(in: .newlines)): start processes with ChildProcess"
                )
            }
        }
    }

    /// A child gets its three standard streams and nothing else: a pipe this process holds open (as another test's
    /// reader would) is not among its descriptors.
    @Test func childrenGetOnlyTheirStandardStreams() async throws {
        var fds: [Int32] = [-1, -1]
        #expect(pipe(&fds) == 0)  // without close-on-exec, as Foundation's Pipe makes them
        defer { fds.forEach { close($0) } }
        let r = try await ChildProcess.run(["/bin/ls", "/proc/self/fd"])
        #expect(r.status == 0)
        let open = r.stdout.split(separator: "\n").compactMap { Int32($0) }.sorted()
        // 0, 1, 2, and the descriptor ls opened to read the folder (the lowest free one).
        #expect(open == [0, 1, 2, 3], "\(open); this process holds the pipe \(fds)")
    }

    /// The end of a child is seen although a daemon it started holds its output open (pg_ctl start → postmaster).
    @Test func aChildsEndIsSeenWhileADaemonHoldsItsOutput() async throws {
        let child = try ChildProcess.start(["/bin/sh", "-c", "sleep 30 & echo started"])
        let status = await child.exitStatus(within: .seconds(20))
        #expect(status == 0, "the shell exited although its background sleep holds the pipe")
        #expect(child.stdout.value == "started\n")
        let daemon = try await ChildProcess.run(["/usr/bin/pkill", "-f", "^sleep 30$"])
        #expect(daemon.status == 0 || daemon.status == 1)
    }

    @Test func inputOutputAndExitStatusRoundTrip() async throws {
        let big = String(repeating: "x", count: 300_000) + "\n"
        let r = try await ChildProcess.run(["/bin/sh", "-c", "wc -c; echo oops >&2; exit 7"], input: big)
        #expect(r.status == 7)
        #expect(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == String(big.utf8.count))
        #expect(r.stderr == "oops\n")
        let killed = try ChildProcess.start(["/bin/sleep", "30"])
        #expect(await killed.kill() == 128 + SIGKILL)
        #expect(killed.terminationReason == .uncaughtSignal)
    }

    /// Multi-byte characters split across reads come out whole.
    @Test func utf8SplitAcrossReadsIsKept() {
        let bytes = Array("a…b".utf8)
        #expect(ChildProcess.completeUTF8Prefix(Array(bytes.prefix(2))) == 1)
        #expect(ChildProcess.completeUTF8Prefix(Array(bytes.prefix(3))) == 1)
        #expect(ChildProcess.completeUTF8Prefix(Array(bytes.prefix(4))) == 4)
        #expect(ChildProcess.completeUTF8Prefix(bytes) == bytes.count)
    }
}
