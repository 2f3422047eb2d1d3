import Foundation
import PVESim
import Synchronization
import Testing

/// A clock the test moves: tasks finish when it passes their end.
final class ManualClock: Sendable {
    private let time = Mutex(1_795_000_000.0)
    var now: Double { time.withLock { $0 } }
    func advance(_ seconds: Double) { time.withLock { $0 += seconds } }
}

/// An in-process simulator with a manual clock, called as the root@pam!setpoint token unless told otherwise.
struct Sim {
    static let token = "PVEAPIToken=root@pam!setpoint=5e7d0000-0000-4000-8000-000000000001"
    let sim: PVESimulator
    let clock = ManualClock()

    init(_ configure: (inout SimOptions) -> Void = { _ in }) {
        var options = SimOptions()
        options.taskSeconds = 1
        configure(&options)
        let clock = self.clock
        sim = PVESimulator(options: options, clock: { clock.now })
    }

    func call(
        _ method: String,
        _ path: String,
        _ params: [String: String] = [:],
        headers: [String: String] = ["authorization": Sim.token]
    )
        async -> SimResponse
    {
        await sim.handle(SimRequest(method: method, path: path, params: params, headers: headers))
    }

    /// The `data` of a 200 answer; records the failure otherwise.
    @discardableResult
    func ok(
        _ method: String,
        _ path: String,
        _ params: [String: String] = [:],
        sourceLocation: SourceLocation = #_sourceLocation
    )
        async throws -> JSONValue
    {
        let r = await call(method, path, params)
        try #require(
            r.status == 200,
            "\(method) \(path): \(r.status) \(r.reason) \(r.body.serialized)",
            sourceLocation: sourceLocation
        )
        return r.body["data"] ?? .null
    }

    /// PVE's error text for a failing call.
    func fails(
        _ method: String,
        _ path: String,
        _ params: [String: String] = [:],
        status: Int = 500,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async -> String {
        let r = await call(method, path, params)
        #expect(r.status == status, "\(method) \(path): \(r.status) \(r.reason)", sourceLocation: sourceLocation)
        return r.reason
    }

    /// Lets a task run to its end and returns its status object.
    @discardableResult
    func finish(_ upid: JSONValue, sourceLocation: SourceLocation = #_sourceLocation) async throws -> JSONValue {
        let id = try #require(upid.stringValue, sourceLocation: sourceLocation)
        clock.advance(1.5)
        let node = id.split(separator: ":")[1]
        let escaped = id  // in-process paths are already decoded
        return try await ok("GET", "/nodes/\(node)/tasks/\(escaped)/status", sourceLocation: sourceLocation)
    }

    /// Creates VM `vmid` on pve1 and waits for the create task.
    func createVM(_ vmid: Int, _ params: [String: String] = [:], node: String = "pve1") async throws {
        var p = [
            "vmid": String(vmid), "name": "vm\(vmid)", "memory": "2048", "cores": "2", "scsi0": "local-lvm:4",
            "net0": "virtio,bridge=vmbr0",
        ]
        p.merge(params) { _, b in b }
        let status = try await finish(try await ok("POST", "/nodes/\(node)/qemu", p))
        #expect(status["exitstatus"]?.stringValue == "OK")
    }

    func start(_ vmid: Int, node: String = "pve1", type: String = "qemu") async throws {
        try await finish(try await ok("POST", "/nodes/\(node)/\(type)/\(vmid)/status/start"))
    }

    func config(
        _ vmid: Int,
        node: String = "pve1",
        type: String = "qemu",
        current: Bool = false
    ) async throws -> JSONValue {
        try await ok("GET", "/nodes/\(node)/\(type)/\(vmid)/config", current ? ["current": "1"] : [:])
    }

    /// `key → (value, pending, delete)` from `GET …/pending`.
    func pending(
        _ vmid: Int,
        node: String = "pve1",
        type: String = "qemu"
    ) async throws -> [String: (String?, String?, Int?)] {
        let items = try #require(try await ok("GET", "/nodes/\(node)/\(type)/\(vmid)/pending").arrayValue)
        var result: [String: (String?, String?, Int?)] = [:]
        for item in items {
            result[item["key"]!.stringValue!] = (
                item["value"]?.stringValue, item["pending"]?.stringValue, item["delete"]?.intValue
            )
        }
        return result
    }
}
