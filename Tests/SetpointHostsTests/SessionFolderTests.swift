import Foundation
import Testing

@testable import SetpointRemote

/// A folder of its own for one test, removed afterwards.
final class ScratchFolder: Sendable {
    let path: String

    init() throws {
        path =
            FileManager.default.temporaryDirectory.appendingPathComponent("setpoint-hosts-tests-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Where the SSH connections' private folders go, and the sweep of folders a killed run left behind.
@Suite(.timeLimit(.minutes(1))) struct SessionFolderTests {
    @Test func theRuntimeDirectorySystemdGivesIsUsedElseTmp() throws {
        let folder = try ScratchFolder()
        #expect(HostConnection.parent(in: ["RUNTIME_DIRECTORY": folder.path]) == folder.path)
        #expect(HostConnection.parent(in: ["RUNTIME_DIRECTORY": "\(folder.path):/run/other"]) == folder.path)
        #expect(HostConnection.parent(in: [:]) == "/tmp")
        #expect(HostConnection.parent(in: ["RUNTIME_DIRECTORY": "relative"]) == "/tmp")
        #expect(HostConnection.parent(in: ["RUNTIME_DIRECTORY": folder.path + "/missing"]) == "/tmp")
    }

    @Test func theSweepRemovesFoldersOfDeadRunsOnly() async throws {
        let parent = try ScratchFolder()
        func make(_ name: String, owner: String) throws -> String {
            let path = parent.path + "/" + name
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
            try owner.write(toFile: path + "/owner", atomically: true, encoding: .utf8)
            try "key".write(toFile: path + "/key-0", atomically: true, encoding: .utf8)
            return path
        }
        // A PID that cannot run (above pid_max), and this process with another start time (a reused PID).
        let dead = try make("setpoint-ssh-dead", owner: "4194305 12345")
        let reused = try make("setpoint-ssh-reused", owner: "\(getpid()) 1")
        let live = try make("setpoint-ssh-live", owner: HostConnection.ownerMark())
        let other = try make("not-setpoint", owner: "4194305 1")
        await HostConnection.sweep(in: parent.path)
        #expect(!FileManager.default.fileExists(atPath: dead))
        #expect(!FileManager.default.fileExists(atPath: reused))
        #expect(FileManager.default.fileExists(atPath: live), "its owner runs")
        #expect(FileManager.default.fileExists(atPath: other), "not Setpoint's")
    }
}
