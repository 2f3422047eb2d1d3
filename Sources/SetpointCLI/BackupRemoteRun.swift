import Foundation
import SetpointCore
import SetpointState

/// `backup run` and `backup drill` with a controller configured (`--controller URL` or SETPOINT_CONTROLLER): the leading
/// controller makes the run — it holds the state's lease and runs the schedules, so asking it is what keeps two runs
/// off pgBackRest's lock — and this waits for the outcome.
struct BackupRemoteRun {
    let console: Console
    let client: ControllerClientOptions

    /// Whether a controller is configured: the option or the environment variable, never the default address.
    static func configured(_ client: ControllerClientOptions, _ console: Console) -> Bool {
        client.controller != nil || !(console.environment["SETPOINT_CONTROLLER"] ?? "").isEmpty
    }

    /// Asks for the run, polls its job until it ends, prints it. Exit 0 when it succeeded, 1 otherwise.
    func run(_ policy: String, kind: BackupRun.Kind, targetTime: String?) async -> Int32 {
        var body = ["type": kind.rawValue]
        if let targetTime { body["targetTime"] = targetTime }
        do {
            let path =
                "/api/v1/backups/\(policy.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? policy)/runs"
            let started = try await client.request(console, "POST", path, body: body)
            guard started.status == 202, let job = Self.object(started.text), let id = job["job"] as? String else {
                _ = client.finish(console, started)
                return 1
            }
            console.err(
                "\(kind.rawValue) of BackupPolicy/\(policy) started on the controller (job \(id)); waiting for it\n"
            )
            while true {
                try await (CLIRuntime.current?.clock ?? SystemClock()).sleep(for: .seconds(1))
                let r = try await client.request(console, "GET", "/api/v1/backups/jobs/\(id)")
                guard r.status == 200, let job = Self.object(r.text) else {
                    _ = client.finish(console, r)
                    return 1
                }
                switch job["status"] as? String {
                case "running"?: continue
                default:
                    if let error = job["error"] as? String {
                        console.err("error: \(kind.rawValue) of BackupPolicy/\(policy): \(error)\n")
                        return 1
                    }
                    guard let runObject = job["run"], let data = try? JSONSerialization.data(withJSONObject: runObject),
                        let run = try? JSONDecoder().decode(BackupRun.self, from: data)
                    else {
                        console.err("error: the controller's answer has no run: \(r.text)\n")
                        return 1
                    }
                    return BackupOperation.report(run, console)
                }
            }
        } catch {
            console.err("error: cannot reach the controller: \(error)\n")
            return 1
        }
    }

    static func object(_ text: String) -> [String: Any]? {
        try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
    }
}
