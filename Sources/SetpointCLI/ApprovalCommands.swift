import ArgumentParser
import Foundation
import SetpointController
import SetpointCore
import SetpointHTTP

/// `--controller URL --token-file FILE` (or SETPOINT_CONTROLLER / SETPOINT_TOKEN_FILE): how the approval commands reach
/// the controller's API.
struct ControllerClientOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The controller's API (default $SETPOINT_CONTROLLER, else http://127.0.0.1:9797).",
            valueName: "URL"
        )
    )
    var controller: String?

    @Option(
        name: .customLong("token-file"),
        help: ArgumentHelp("A file holding your API token (default $SETPOINT_TOKEN_FILE).", valueName: "FILE")
    )
    var tokenFile: String?

    @Option(
        name: .customLong("controller-ca"),
        help: ArgumentHelp(
            "The CA (PEM) that signed an https controller's certificate, when the system's CAs did not (default $SETPOINT_CONTROLLER_CA).",
            valueName: "FILE"
        )
    )
    var controllerCA: String?

    /// Whether a controller is configured — the option or SETPOINT_CONTROLLER, never the default address — so that a
    /// command goes through it instead of taking the state's lease itself.
    func isConfigured(_ console: Console) -> Bool {
        controller != nil || !(console.environment["SETPOINT_CONTROLLER"] ?? "").isEmpty
    }

    func request(
        _ console: Console,
        _ method: String,
        _ path: String,
        body: (any Encodable & Sendable)? = nil,
        accept: String = "application/json",
        timeout: Duration = .seconds(30)
    )
        async throws -> (status: Int, text: String)
    {
        let env = console.environment
        let base = (controller ?? env["SETPOINT_CONTROLLER"] ?? "http://127.0.0.1:9797").trimmingCharacters(
            in: CharacterSet(charactersIn: "/")
        )
        var headers: [(name: String, value: String)] = [("Accept", accept)]
        if let file = tokenFile ?? env["SETPOINT_TOKEN_FILE"] {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw ValidationError("token file \(file) cannot be read")
            }
            headers.append(
                (
                    "Authorization",
                    "Bearer " + String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                )
            )
        }
        var data: Data?
        if let body {
            data = try JSONEncoder().encode(body)
            headers.append(("Content-Type", "application/json"))
        }
        let ca = controllerCA ?? env["SETPOINT_CONTROLLER_CA"].flatMap { $0.isEmpty ? nil : $0 }
        if let ca, !FileManager.default.isReadableFile(atPath: ca) {
            throw ValidationError("--controller-ca \(ca) cannot be read")
        }
        let client = HTTPClient(tls: TLSOptions(caFile: ca), connections: 1)
        defer { client.shutdown() }
        let r = try await client.send(
            HTTPRequest(method: method, url: base + path, headers: headers, body: data, timeout: timeout)
        )
        return (r.status, String(decoding: r.body, as: UTF8.self))
    }

    /// Prints the answer: the body on success, the API's error (with its status) otherwise.
    func finish(_ console: Console, _ r: (status: Int, text: String)) -> Int32 {
        if (200..<300).contains(r.status) {
            console.out(r.text.hasSuffix("\n") ? r.text : r.text + "\n")
            return 0
        }
        let message = (try? JSONDecoder().decode(APIv1.ErrorBody.self, from: Data(r.text.utf8)))?.error ?? r.text
        console.err("error: HTTP \(r.status): \(message)\n")
        return 1
    }
}

struct PlansCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plans",
        abstract: "List or show the controller's plans (pending ones wait for approval).",
        subcommands: [PlansListCommand.self, PlansShowCommand.self]
    )
}

struct PlansListCommand: ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Plans, newest first (--status pending|approved|rejected|applied|stale)."
    )
    @Option(name: .long, help: "Only plans with this status.") var status: String?
    @OptionGroup var client: ControllerClientOptions

    func execute(_ console: Console) async throws -> Int32 {
        let r = try await client.request(console, "GET", "/api/v1/plans" + (status.map { "?status=\($0)" } ?? ""))
        guard r.status == 200,
            let page = try? JSONDecoder().decode(APIv1.Page<APIv1.PlanSummary>.self, from: Data(r.text.utf8))
        else { return client.finish(console, r) }
        if page.items.isEmpty { console.out("no plans\n") }
        for p in page.items { console.out("\(p.id)  \(p.status)  \(p.createdAt)\n") }
        return 0
    }
}

struct PlansShowCommand: ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "A plan as text (--output json for its JSON)."
    )
    @Argument(help: "The plan's id.") var id: String
    @OptionGroup var output: OutputOptions
    @OptionGroup var client: ControllerClientOptions

    func execute(_ console: Console) async throws -> Int32 {
        client.finish(
            console,
            try await client.request(
                console,
                "GET",
                "/api/v1/plans/\(id)",
                accept: output.format == .json ? "application/json" : "text/plain"
            )
        )
    }
}

struct ApproveCommand: ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve",
        abstract: "Approve a pending plan: the controller's next pass applies its actions (audited with your identity)."
    )
    @Argument(help: "The plan's id (setpoint plans list).") var id: String
    @OptionGroup var client: ControllerClientOptions

    func execute(_ console: Console) async throws -> Int32 {
        client.finish(
            console,
            try await client.request(console, "POST", "/api/v1/plans/\(id)/approve", body: APIv1.DecisionRequest())
        )
    }
}

struct RejectCommand: ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "reject",
        abstract: "Reject a pending plan, with a reason (audited)."
    )
    @Argument(help: "The plan's id.") var id: String
    @Option(name: .long, help: "Why (recorded in the audit log).") var reason: String
    @OptionGroup var client: ControllerClientOptions

    func execute(_ console: Console) async throws -> Int32 {
        client.finish(
            console,
            try await client.request(
                console,
                "POST",
                "/api/v1/plans/\(id)/reject",
                body: APIv1.DecisionRequest(reason: reason)
            )
        )
    }
}

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Make API tokens.",
        subcommands: [TokenCreateCommand.self]
    )
}

struct TokenCreateCommand: ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Print a new API token and the line (its SHA-256 only) to add to the controller's tokens file."
    )
    @Option(name: .long, help: "viewer, approver or admin.") var role: String
    @Option(name: .long, help: "Whose token it is (recorded in the audit log).") var email: String
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Refuse the token after this long (90d, 12h) or from this time (2027-03-07T10:00:00Z, or a date).",
            valueName: "WHEN"
        )
    )
    var expires: String?

    func validate() throws {
        guard Tokens.Role(rawValue: role) != nil else { throw ValidationError("--role is viewer, approver or admin") }
        guard email.contains("@") else { throw ValidationError("--email must be an e-mail address") }
        if let expires, Self.expiry(expires, now: CLIRuntime.clock.now) == nil {
            throw ValidationError(
                "--expires \(expires): give a duration (90d, 12h) or a time (2027-03-07T10:00:00Z, or a date)"
            )
        }
    }

    /// A duration from now, or a time.
    static func expiry(_ text: String, now: Date) -> Date? {
        if let d = DurationValue.parse(text), d.milliseconds > 0 {
            return now.addingTimeInterval(Double(d.milliseconds) / 1000)
        }
        return Tokens.expiry(text)
    }

    func execute(_ console: Console) async throws -> Int32 {
        let (token, line) = Tokens.create(
            role: Tokens.Role(rawValue: role)!,
            email: email,
            expires: expires.flatMap { Self.expiry($0, now: CLIRuntime.clock.now) }
        )
        console.out("token (give it to \(email); it is not stored anywhere): \(token)\n")
        console.out("tokens file line: \(line)\n")
        return 0
    }
}
