import ArgumentParser
import Foundation
import SetpointCore
import SetpointManifest
import SetpointRender
import SetpointState

/// `setpoint doctor PATH…`: check the systems the manifests reference before planning against them.
struct DoctorCommand: ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the referenced systems: reachability, TLS, version, privileges, Prometheus' rule_files.",
        discussion: """
            For each ProxmoxCluster the manifests declare: every endpoint is called (GET /version) with the token, the TLS mode is \
            reported (an explicit `insecure: true` is a warning), and GET /access/permissions is compared with the privileges the \
            manifests' guests, pools and backup jobs need. For each PrometheusServer: reachable, the lifecycle API on (for \
            reloads), the rules folder writable here, and Prometheus' rule_files covering the files Setpoint writes there. For \
            each Host: the login (its key pinned, or trusted on first use as the state records), sudo as the users the \
            resources on it need, and their tools. Nothing is changed: a Host's key is never trusted by doctor.

            Examples:
              setpoint doctor examples/quickstart
              setpoint doctor manifests/ --output json

            Exit codes: 0 every check passed (warnings allowed); 1 a check failed or the manifests are invalid.
            """
    )

    @Argument(help: "Manifest files or folders.")
    var paths: [String]

    @OptionGroup var outputOptions: OutputOptions

    @OptionGroup var stateOptions: StateOptions

    func validate() throws {
        guard !paths.isEmpty else {
            throw ValidationError("give the manifest files or folders, e.g. 'setpoint doctor manifests/'")
        }
    }

    func execute(_ console: Console) async throws -> Int32 {
        let runtime = CLIRuntime.current ?? .shipped
        let session = PlanSession(console: console, runtime: runtime, paths: paths)
        guard let set = await session.load() else { return 1 }
        let registry = try session.registry()
        // The state, read only, for the host keys trusted on first use (none where there is no state yet).
        let store: (any StateStore)?
        do { store = try await stateOptions.openReadOnly(console) } catch {
            console.err("error: \(error)\n")
            return 1
        }
        let context = session.context(set, store: store)
        var checks: [HealthCheck] = []
        for r in set.resources.sorted(by: { $0.id < $1.id })
        where !(KindRegistry.definition(for: r.id.kind)?.isManaged ?? true) {
            guard let provider = registry.provider(for: r.id.kind) as? any HealthChecking else {
                checks.append(HealthCheck(r.id, "provider", .failed, "this build has no provider for \(r.id.kind)"))
                continue
            }
            checks += await provider.healthChecks(for: r, in: context)
        }
        switch outputOptions.format {
        case .json:
            let data = try JSONEncoder.sorted.encode(["checks": checks])
            console.out(String(decoding: data, as: UTF8.self) + "\n")
        case .text:
            let style = TerminalStyle.detect(isTerminal: console.isTerminal, environment: console.environment)
            if checks.isEmpty {
                console.out("Nothing to check: the manifests declare no referenced systems (ProxmoxCluster …).\n")
            }
            for c in checks {
                let mark =
                    switch c.status {
                    case .ok: style.green("ok  ")
                    case .warning: style.yellow("warn")
                    case .failed: style.red("FAIL")
                    }
                console.out("\(mark) \(c.resource) \(c.check): \(c.detail)\n")
            }
            let failed = checks.filter { $0.status == .failed }.count
            let warned = checks.filter { $0.status == .warning }.count
            console.out("\n\(checks.count) checks: \(failed) failed, \(warned) warnings.\n")
        }
        return checks.contains { $0.status == .failed } ? 1 : 0
    }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return e
    }
}
