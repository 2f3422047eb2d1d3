import Foundation
import SetpointController
import SetpointCore

/// `postgres failover` and `postgres reinit` with a controller configured: the leading controller carries the command
/// out under its lease (the token must be an admin's), and this waits for it and prints what it printed.
struct OperatorRemoteRun {
    let console: Console
    let client: ControllerClientOptions

    func run(_ command: OperatorCommand, what: String) async -> Int32 {
        let body = APIv1.OperationRequest(
            resource: command.resource.description,
            command: command.name,
            arguments: command.arguments
        )
        do {
            let started = try await client.request(console, "POST", "/api/v1/operations", body: body)
            guard started.status == 202, let id = Self.job(started.text)?.job else {
                _ = client.finish(console, started)
                return 1
            }
            console.err("\(what) started on the leading controller (job \(id)); waiting for it\n")
            let clock = CLIRuntime.current?.clock ?? SystemClock()
            let deadline = clock.elapsed + .seconds(3600)
            while true {
                guard clock.elapsed < deadline else {
                    console.err(
                        "error: \(what) still runs on the controller after an hour: follow it with GET /api/v1/operations/\(id)\n"
                    )
                    return 1
                }
                try await clock.sleep(for: .milliseconds(500))
                let r = try await client.request(console, "GET", "/api/v1/operations/\(id)")
                guard r.status == 200, let job = Self.job(r.text) else {
                    _ = client.finish(console, r)
                    return 1
                }
                if job.status == .running { continue }
                for line in job.lines { console.out(line + "\n") }
                if let error = job.error {
                    console.err("error: \(what): \(error)\n")
                    return 1
                }
                return 0
            }
        } catch {
            console.err("error: cannot reach the controller: \(error)\n")
            return 1
        }
    }

    static func job(_ text: String) -> OperatorJobs.Job? {
        try? JSONDecoder().decode(OperatorJobs.Job.self, from: Data(text.utf8))
    }
}
