import Foundation
import PVESim
import Testing

/// `pve-sim --guest-hook`: a guest's lifecycle tasks run the hook with the event and the guest as JSON, end only when
/// it has, and fail in PVE's form when it fails (the event's effect then does not happen).
@Suite(.timeLimit(.minutes(2))) struct GuestHookTests {
    /// A hook that appends `EVENT JSON` to a file, sleeps a moment, and fails for a guest named `broken`.
    static func hook(in dir: String) throws -> String {
        let path = dir + "/hook"
        try """
        #!/bin/sh
        doc="$(cat)"
        printf '%s %s\\n' "$1" "$doc" >> "\(dir)/events"
        sleep 0.3
        case "$doc" in *'"name":"broken"'*) echo "cannot boot: no bootable disk" >&2; exit 3 ;; esac
        exit 0
        """.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
        return path
    }

    /// Waits (real time: the hook is a process) until the task has stopped; its status.
    static func stopped(_ sim: Sim, _ upid: JSONValue) async throws -> JSONValue {
        sim.clock.advance(1.5)
        let id = try #require(upid.stringValue)
        for _ in 0..<100 {
            let status = try await sim.ok("GET", "/nodes/pve1/tasks/\(id)/status")
            if status["status"]?.stringValue == "stopped" { return status }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("the task did not stop within 5 s")
        return .null
    }

    @Test func lifecycleTasksRunTheHookAndEndWhenItHasAFailingHookFailsTheTask() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pve-sim-hook-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let hook = try Self.hook(in: dir)
        let sim = Sim { $0.guestHook = GuestHook(command: hook, timeout: .seconds(20)) }

        // A template and a clone of it: starting the clone runs the hook with the template named.
        try await sim.createVM(9000, ["name": "debian-12-postgres"])
        try await sim.ok("PUT", "/nodes/pve1/qemu/9000/config", ["template": "1"])
        try await sim.finish(
            try await sim.ok("POST", "/nodes/pve1/qemu/9000/clone", ["newid": "101", "name": "db-1", "full": "1"])
        )
        try await sim.ok("PUT", "/nodes/pve1/qemu/101/config", ["ipconfig0": "ip=10.77.0.21/24", "ciuser": "setpoint"])
        let start = try await sim.ok("POST", "/nodes/pve1/qemu/101/status/start")
        // The task's time is up, but it runs until the hook has.
        sim.clock.advance(1.5)
        let running = try await sim.ok("GET", "/nodes/pve1/tasks/\(try #require(start.stringValue))/status")
        #expect(running["status"]?.stringValue == "running", "\(running)")
        let done = try await Self.stopped(sim, start)
        #expect(done["exitstatus"]?.stringValue == "OK", "\(done)")
        #expect(try await sim.ok("GET", "/nodes/pve1/qemu/101/status/current")["status"]?.stringValue == "running")

        let events = try String(contentsOfFile: dir + "/events", encoding: .utf8).split(separator: "\n")
        let first = try #require(events.first)
        #expect(first.hasPrefix("start "))
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(first.dropFirst(6).utf8)) as? [String: Any]
        )
        #expect(
            document["vmid"] as? Int == 101 && document["name"] as? String == "db-1"
                && document["event"] as? String == "start"
        )
        #expect((document["config"] as? [String: String])?["ipconfig0"] == "ip=10.77.0.21/24")
        let template = try #require(document["clonedFrom"] as? [String: Any])
        #expect(template["vmid"] as? Int == 9000 && template["name"] as? String == "debian-12-postgres")

        // Shutdown and destroy run it too.
        _ = try await Self.stopped(sim, try await sim.ok("POST", "/nodes/pve1/qemu/101/status/shutdown"))
        _ = try await Self.stopped(sim, try await sim.ok("DELETE", "/nodes/pve1/qemu/101"))
        let all = try String(contentsOfFile: dir + "/events", encoding: .utf8).split(separator: "\n")
        #expect(all.map { $0.split(separator: " ")[0] } == ["start", "shutdown", "destroy"], "\(all)")

        // A failing hook: the task fails with its message, and the guest does not run.
        try await sim.createVM(102, ["name": "broken"])
        let failed = try await Self.stopped(sim, try await sim.ok("POST", "/nodes/pve1/qemu/102/status/start"))
        #expect(failed["exitstatus"]?.stringValue == "cannot boot: no bootable disk", "\(failed)")
        #expect(try await sim.ok("GET", "/nodes/pve1/qemu/102/status/current")["status"]?.stringValue == "stopped")
    }

    @Test func withoutAHookTasksEndAsBefore() async throws {
        let sim = Sim()
        try await sim.createVM(100)
        let status = try await sim.finish(try await sim.ok("POST", "/nodes/pve1/qemu/100/status/start"))
        #expect(status["status"]?.stringValue == "stopped" && status["exitstatus"]?.stringValue == "OK")
    }
}
