import Foundation

/// What a worker task does when it finishes.
public enum TaskEffect: Codable, Sendable {
    case create(vmid: Int, start: Bool)
    case clone(source: Int, vmid: Int)
    case start(vmid: Int)
    case stop(vmid: Int)
    case reboot(vmid: Int)
    case migrate(vmid: Int, target: String, restart: Bool)
    case resize(vmid: Int, disk: String, bytes: Int64)
    case destroy(vmid: Int)
    case vzdump(vmids: [Int], storage: String)
    case config
}

/// A PVE worker task with its UPID (pve-common `UPID.pm` format).
public struct SimTask: Codable, Sendable {
    public var upid: String
    public var node: String
    public var pid: Int
    public var pstart: Int
    public var starttime: Int
    public var type: String
    public var id: String
    /// `root@pam!setpoint` for a token, as in the UPID.
    public var user: String
    public var endsAt: Double
    public var endtime: Int?
    /// Nil while running; `OK` or the error text once stopped.
    public var exitstatus: String?
    /// Decided when the task starts (seeded), applied when it ends.
    public var failure: String?
    public var log: [String]
    public var effect: TaskEffect
    /// The error the task ends with although its effect took place: vzdump's `job errors` when some guests could not
    /// be backed up (their `ERROR: Backup of VM … failed - …` lines are in the log) while the others were.
    public var errorAfterEffect: String? = nil
    /// The guest hook of a lifecycle task: `running` while it runs, `done` once it has (its failure, if any, in
    /// `hookFailure`); nil when there is none.
    public var hook: String? = nil
    public var hookFailure: String? = nil

    public var isRunning: Bool { exitstatus == nil }

    static func makeUPID(
        node: String,
        pid: Int,
        pstart: Int,
        starttime: Int,
        type: String,
        id: String,
        user: String
    ) -> String {
        func hex(_ v: Int) -> String {
            let s = String(v, radix: 16, uppercase: true)
            return String(repeating: "0", count: max(0, 8 - s.count)) + s
        }
        return "UPID:\(node):\(hex(pid)):\(hex(pstart)):\(hex(starttime)):\(type):\(id):\(user):"
    }

    /// The status object of `GET /nodes/{node}/tasks/{upid}/status`: a token's task shows `user` and `tokenid` split.
    var statusJSON: JSONValue {
        var o: [String: JSONValue] = [
            "upid": .string(upid), "node": .string(node), "pid": .int(pid), "pstart": .int(pstart),
            "starttime": .int(starttime), "type": .string(type), "id": .string(id),
            "status": .string(isRunning ? "running" : "stopped"),
        ]
        let parts = user.split(separator: "!", maxSplits: 1)
        o["user"] = .string(String(parts[0]))
        if parts.count == 2 { o["tokenid"] = .string(String(parts[1])) }
        if let exitstatus { o["exitstatus"] = .string(exitstatus) }
        return .object(o)
    }

    /// An entry of the task lists (`status` is the exit status text once finished).
    var listJSON: JSONValue {
        var o: [String: JSONValue] = [
            "upid": .string(upid), "node": .string(node), "pid": .int(pid), "pstart": .int(pstart),
            "starttime": .int(starttime), "type": .string(type), "id": .string(id), "user": .string(user),
        ]
        if let exitstatus { o["status"] = .string(exitstatus) }
        if let endtime { o["endtime"] = .int(endtime) }
        return .object(o)
    }
}
