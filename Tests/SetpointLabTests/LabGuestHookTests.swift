import Foundation
import PVESim
import SetpointTesting
import Testing

/// Guests that boot: pve-sim with the lab's guest hook (`scripts/lab-guest-hook`) makes a started guest a lab host at
/// the address of its cloud-init settings, with their user and keys, reached from the ops namespace over SSH with the
/// host key it made at first boot; a guest cloned from debian-12-app serves /health on 8080; a shutdown takes it down,
/// a start brings it back with the same key, a destroy removes it; an address outside the lab fails the start task.
@Suite(.timeLimit(.minutes(3)), .serialized) struct LabGuestHookTests {
    static let token = "PVEAPIToken=root@pam!setpoint=5e7d0000-0000-4000-8000-000000000001"

    struct Cluster {
        let sim: PVESimulator

        func call(_ method: String, _ path: String, _ params: [String: String] = [:]) async throws -> JSONValue {
            let r = await sim.handle(
                SimRequest(
                    method: method,
                    path: path,
                    params: params,
                    headers: ["authorization": LabGuestHookTests.token]
                )
            )
            try #require(r.status == 200, "\(method) \(path): \(r.status) \(r.reason)")
            return r.body["data"] ?? .null
        }

        /// Runs a task to its end (the hook is a process: real time) and returns its exit status.
        func task(_ upid: JSONValue) async throws -> String {
            let id = try #require(upid.stringValue)
            for _ in 0..<600 {
                let status = try await call("GET", "/nodes/pve1/tasks/\(id)/status")
                if status["status"]?.stringValue == "stopped" { return status["exitstatus"]?.stringValue ?? "" }
                try await Task.sleep(for: .milliseconds(100))
            }
            Issue.record("task \(id) did not end within 60 s")
            return ""
        }
    }

    @Test func aStartedGuestBecomesALabHostGoesDownComesBackAndIsDestroyed() async throws {
        guard let lab = try Lab.current() else { return }
        var options = SimOptions()
        options.taskSeconds = 0.05
        options.guestHook = GuestHook(command: RepoPaths.path("scripts/lab-guest-hook"), timeout: .seconds(60))
        let pve = Cluster(sim: PVESimulator(options: options))
        let key = try String(contentsOfFile: lab.inventory.directory + "/id_ed25519.pub", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let encoded = try #require(key.addingPercentEncoding(withAllowedCharacters: .alphanumerics))

        // A template, and a guest cloned from it with cloud-init settings inside the lab's subnet.
        #expect(
            try await pve.task(
                try await pve.call(
                    "POST",
                    "/nodes/pve1/qemu",
                    ["vmid": "9001", "name": "debian-12-app", "memory": "1024", "scsi0": "local-lvm:4"]
                )
            ) == "OK"
        )
        _ = try await pve.call("PUT", "/nodes/pve1/qemu/9001/config", ["template": "1"])
        func guest(_ vmid: Int, address: String) async throws {
            #expect(
                try await pve.task(
                    try await pve.call(
                        "POST",
                        "/nodes/pve1/qemu/9001/clone",
                        ["newid": "\(vmid)", "name": "app-\(vmid)", "full": "1"]
                    )
                ) == "OK"
            )
            _ = try await pve.call(
                "PUT",
                "/nodes/pve1/qemu/\(vmid)/config",
                ["ipconfig0": "ip=\(address)/24", "ciuser": lab.inventory.sshUser, "sshkeys": encoded]
            )
        }
        try await guest(151, address: "10.213.0.151")
        let ssh = ["ops", "ssh", "-F", lab.inventory.directory + "/ssh_config", "10.213.0.151"]

        #expect(try await pve.task(try await pve.call("POST", "/nodes/pve1/qemu/151/status/start")) == "OK")
        let name = try await lab.lab(ssh + ["hostname"])
        #expect(name.status == 0 && name.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "vm151", "\(name)")
        let health = try await lab.lab([
            "ops", "python3", "-c",
            "import urllib.request; print(urllib.request.urlopen('http://10.213.0.151:8080/health', timeout=5).read().decode())",
        ])
        #expect(health.stdout.contains("ok"), "\(health)")

        // Down, then up again with the host key it made at its first boot (the lab's known_hosts pins it).
        #expect(try await pve.task(try await pve.call("POST", "/nodes/pve1/qemu/151/status/shutdown")) == "OK")
        #expect(try await lab.lab(ssh + ["true"]).status != 0, "a shut-down guest answers no SSH")
        #expect(try await pve.task(try await pve.call("POST", "/nodes/pve1/qemu/151/status/start")) == "OK")
        #expect(try await lab.lab(ssh + ["true"]).status == 0, "back, with the same host key")

        // Destroyed: the host and its namespace are gone.
        #expect(try await pve.task(try await pve.call("POST", "/nodes/pve1/qemu/151/status/stop")) == "OK")
        #expect(try await pve.task(try await pve.call("DELETE", "/nodes/pve1/qemu/151")) == "OK")
        let namespaces = try await ChildProcess.run(["ip", "netns", "list"])
        let prefix = lab.environment["SETPOINT_LAB_PREFIX"] ?? "splab"
        #expect(!namespaces.stdout.contains("\(prefix)-vm151"), "\(namespaces.stdout)")

        // An address the lab cannot reach fails the start, as a failed boot would, naming the guest and the rule.
        try await guest(152, address: "192.168.7.5")
        let refused = try await pve.task(try await pve.call("POST", "/nodes/pve1/qemu/152/status/start"))
        #expect(refused.contains("guest vm152: ipconfig0 must give an address from 10.213.0.100"), "\(refused)")
        let state = try await pve.call("GET", "/nodes/pve1/qemu/152/status/current")
        #expect(state["status"]?.stringValue == "stopped")
    }
}
