import Foundation
public import SetpointCore

/// `failover` (argument `to`) and `reinit` (argument `member`) of a PostgresCluster, for the CLI and the controller alike.
extension PostgresProvider: OperatorCommands {
    public func commands(for kind: ResourceKind) -> [String: AuditEvent] {
        kind == .postgresCluster ? ["failover": .failover, "reinit": .reinit] : [:]
    }

    public func problem(with command: OperatorCommand) -> String? {
        switch command.name {
        case "failover":
            command.arguments["to"].map { $0.isEmpty ? "failover needs the member to promote (to)" : nil }
                ?? "failover needs the member to promote (to)"
        case "reinit":
            command.arguments["member"].map { $0.isEmpty ? "reinit needs the member to re-make (member)" : nil }
                ?? "reinit needs the member to re-make (member)"
        default: "\(command.resource.kind) takes failover or reinit, not \(command.name)"
        }
    }

    public func domains(of command: OperatorCommand) -> [String] { ["pg:\(command.resource.name)"] }

    public func run(
        _ command: OperatorCommand,
        on resource: Resource,
        in context: ProviderContext
    ) async throws
        -> OperatorCommandReport
    {
        switch command.name {
        case "failover":
            let report = try await failover(resource, to: command.arguments["to"] ?? "", in: context)
            return OperatorCommandReport(
                lines: report.steps.map { "  \($0)" } + [
                    String(
                        format: "failover of %@: %@ is the primary (%.2f s).",
                        resource.id.description,
                        report.to,
                        report.seconds
                    ),
                    "Next: set `primary: \(report.to)` in the manifest, then plan: the old primary \(report.from) comes back as a replica.",
                ],
                detail: [
                    "from": .string(report.from), "to": .string(report.to),
                    "steps": .list(report.steps.map(Value.string)), "seconds": .double(report.seconds),
                ]
            )
        case "reinit":
            let member = command.arguments["member"] ?? ""
            let report = try await reinitialize(resource, member: member, in: context)
            return OperatorCommandReport(
                lines: [
                    String(
                        format: "%@ of %@ streams again (%.2f s); its old data directory is kept at %@",
                        member,
                        resource.id.description,
                        report.seconds,
                        report.keptAt
                    )
                ],
                detail: ["keptAt": .string(report.keptAt), "seconds": .double(report.seconds)]
            )
        default:
            throw SetpointError(.applyFailed, problem(with: command) ?? "unknown command", resource: resource.id)
        }
    }
}
