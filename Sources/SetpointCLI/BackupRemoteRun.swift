import Foundation
import SetpointController
import SetpointCore
import SetpointState

/// `backup run` and `backup drill` with a controller configured (`--controller URL` or SETPOINT_CONTROLLER): the leading
/// controller makes the run — it holds the state's lease and runs the schedules, so asking it is what keeps two runs
/// off pgBackRest's lock — and this waits for the outcome.
struct BackupRemoteRun {
    let console: Console
    let client: ControllerClientOptions

    /// Asks for the run, polls its job until it ends, prints it. Exit 0 when it succeeded, 1 otherwise.
    func run(_ policy: String, kind: BackupRun.Kind, targetTime: String?) async -> Int32 {
        let body = APIv1.RunRequest(type: kind.rawValue, targetTime: targetTime)
        do {
            let path =
                "/api/v1/backups/\(policy.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? policy)/runs"
            let started = try await client.request(console, "POST", path, body: body)
            guard started.status == 202, let id = Self.job(started.text)?.job else {
                _ = client.finish(console, started)
                return 1
            }
            console.err(
                "\(kind.rawValue) of BackupPolicy/\(policy) started on the controller (job \(id)); waiting for it\n"
            )
            while true {
                try await (CLIRuntime.current?.clock ?? SystemClock()).sleep(for: .seconds(1))
                let r = try await client.request(console, "GET", "/api/v1/backups/jobs/\(id)")
                guard r.status == 200, let job = Self.job(r.text) else {
                    _ = client.finish(console, r)
                    return 1
                }
                if job.status == "running" { continue }
                if let error = job.error {
                    console.err("error: \(kind.rawValue) of BackupPolicy/\(policy): \(error)\n")
                    return 1
                }
                guard let run = job.run else {
                    console.err("error: the controller's answer has no run: \(r.text)\n")
                    return 1
                }
                return BackupOperation.report(run, console)
            }
        } catch {
            console.err("error: cannot reach the controller: \(error)\n")
            return 1
        }
    }

    static func job(_ text: String) -> APIv1.Job? { try? JSONDecoder().decode(APIv1.Job.self, from: Data(text.utf8)) }
}
