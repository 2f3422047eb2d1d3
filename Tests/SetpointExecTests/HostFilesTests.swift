import Foundation
import SetpointExec
import SetpointTesting
import Testing

/// The same file operations on this machine and over SSH (the sshd scripts/test starts): text byte for byte, modes
/// as AtomicFile keeps them, absent files as nil.
@Suite(.timeLimit(.minutes(2))) struct HostFilesTests {
    /// Runs the conformance checks on `files` in `dir` (a folder the files' user may write).
    static func conformance(_ files: any HostFiles, in dir: String) async throws {
        let path = dir + "/pg hba's \"file\".conf"
        let text = "line one\n'quoted' \"double\" $(id) `id` é中😀\n\ttab\n"
        #expect(try await files.read(path) == nil)
        #expect(try await files.stat(path) == nil)
        try await files.write(text, to: path, mode: 0o640, private: false)
        #expect(try await files.read(path) == text)
        let facts = try #require(try await files.stat(path))
        #expect(facts.mode == 0o640 && facts.size == Int64(text.utf8.count) && !facts.isDirectory)
        // A replaced file keeps its mode, whatever the mode asked for a new one.
        try await files.write("second\n", to: path, mode: 0o600, private: false)
        #expect(try await files.stat(path)?.mode == 0o640)
        #expect(try await files.read(path) == "second\n")
        // A private write takes every permission away from others.
        let shared = dir + "/shared.conf"
        try await files.write("a\n", to: shared, mode: 0o644, private: false)
        try await files.write("secret\n", to: shared, mode: 0o644, private: true)
        #expect(try await files.stat(shared)?.mode == 0o640)
        let fresh = dir + "/fresh.conf"
        try await files.write("s\n", to: fresh, mode: 0o644, private: true)
        #expect(try await files.stat(fresh)?.mode == 0o640)
        #expect(try await files.list(dir) == ["fresh.conf", "pg hba's \"file\".conf", "shared.conf"])
        #expect(try await files.stat(dir)?.isDirectory == true)
        #expect(try await files.list(dir + "/missing") == nil)
        try await files.remove(path)
        try await files.remove(path)  // already gone: fine
        #expect(try await files.read(path) == nil)
        #expect(try await files.list(dir) == ["fresh.conf", "shared.conf"])
    }

    @Test func onThisMachine() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("setpoint-files-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await Self.conformance(LocalFiles(), in: dir)
    }

    @Test(
        .enabled(
            if: ProcessInfo.processInfo.environment["SETPOINT_TEST_SSH_PORT"] != nil || ExternalTool.isCI,
            "needs the sshd scripts/test starts"
        )
    )
    func overSSH() async throws {
        let f = try SSHRunnerTests.Fixture(alias: "files-host")
        let files = SSHFiles(runner: f.runner)
        try await f.runner.connect()  // every operation below rides the one master connection
        let dir = try await f.runner.run(Command("mktemp", ["-d"])).stdout.trimmingCharacters(in: .newlines)
        try await Self.conformance(files, in: dir)
        #expect(files.hostName.hasPrefix("files-host (127.0.0.1:"))
        do {
            try await files.write("x", to: "/etc/setpoint-not-allowed.conf", mode: 0o644, private: false)
            Issue.record("a write the SSH user may not make must throw")
        } catch let failure as HostFileFailure {
            #expect("\(failure)".hasPrefix("files-host (127.0.0.1:"), "\(failure)")
            #expect("\(failure)".contains("Permission denied"), "\(failure)")
        }
        _ = try await f.runner.run(Command("rm", ["-rf", "--", dir]))
        await f.cleanup()
    }
}
