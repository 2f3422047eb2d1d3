import ArgumentParser

/// `setpoint`: the root command.
struct SetpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "setpoint",
        abstract:
            "Declarative infrastructure reconciler: Proxmox VE guests, PostgreSQL, PgBouncer, backups and alert rules.",
        discussion: """
            Describe the infrastructure you want in YAML manifests (apiVersion: setpoint/v1); Setpoint checks them, shows what would change, and makes reality match.

            Examples:
              setpoint validate manifests/
              setpoint validate examples/quickstart --output json
              setpoint plan manifests/ --detailed-exitcode
              setpoint apply manifests/ --auto-approve
              setpoint schema VirtualMachine
              setpoint schema --out schemas/

            Exit codes: 0 success; 1 error or invalid manifests; 2 plan has changes (with --detailed-exitcode); 3 needs attention.
            """,
        version: SetpointCLI.version,
        subcommands: [
            ValidateCommand.self, PlanCommand.self, ApplyCommand.self, ImportCommand.self, DoctorCommand.self,
            PostgresCommand.self, BackupCommand.self, RestoreCommand.self, ControllerCommand.self, PlansCommand.self,
            ApproveCommand.self, RejectCommand.self, ExplainCommand.self, TokenCommand.self, AuditCommand.self,
            StateCommand.self,
            SchemaCommand.self,
            VersionCommand.self,
        ]
    )
}

/// `--output text|json`, shared by commands that print results.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

struct OutputOptions: ParsableArguments {
    @Option(name: .long, help: "Output format: text or json.")
    var output: OutputFormat = .text

    @Flag(name: .long, help: "Short for --output json.")
    var json = false

    var format: OutputFormat { json ? .json : output }
}
