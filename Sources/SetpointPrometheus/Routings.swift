import Foundation
import SetpointCore
import SetpointExec
import SetpointRemote

/// Observing and applying an AlertRouting: the configuration file Setpoint owns, and what Alertmanager runs
/// (`/api/v2/status`).
struct Routings: Sendable {
    let api: MonitoringAPI
    let context: ProviderContext

    static func base(_ spec: AlertRoutingSpec) -> String {
        spec.alertmanager.url.hasSuffix("/") ? String(spec.alertmanager.url.dropLast()) : spec.alertmanager.url
    }

    /// The manifest's spec without the part that says where Alertmanager is (compared as declared).
    static func managed(_ spec: Value) -> Value {
        guard case .map(var m) = spec else { return spec }
        m["alertmanager"] = nil
        return .map(m)
    }

    /// The configuration file's text, and the secret values it holds (to keep them out of any message).
    func render(_ resource: Resource) throws -> (text: String, secrets: [String]) {
        _ = try resource.decodeSpec(AlertRoutingSpec.self)  // a spec that does not decode is refused here
        var secrets: [String] = []
        let text = try RoutingConfig.render(resource.id.name, spec: resource.spec) { ref, path in
            do {
                let value = try context.secrets.resolve(ref)
                secrets.append(value)
                return value
            } catch {
                throw SetpointError(.secretUnavailable, "\(path) (\(ref.origin)): \(error)", resource: resource.id)
            }
        }
        return (text, secrets)
    }

    func observe(_ r: ResolvedResource) async throws -> Observation {
        let spec = try r.resource.decodeSpec(AlertRoutingSpec.self)
        let api = try await api.reaching(
            spec.alertmanager.url,
            on: spec.alertmanager.runsOn,
            context: context,
            for: r.id
        )
        let text = try await api.alertmanagerConfig(Self.base(spec))
        guard let live = YAMLValues.parse(text, file: "\(spec.alertmanager.url)/api/v2/status") else {
            return .failed("Alertmanager's running configuration (config.original) could not be read as YAML")
        }
        var observed =
            RoutingConfig.project(
                .map(RoutingConfig.shape(live)),
                onto: Self.managed(r.resource.spec),
                also: r.lastApplied.map(Self.managed)
            ) ?? .map([:])
        // Where the Alertmanager is, and Setpoint's own opt-ins, are not in its file: observed as declared.
        observed = RoutingFields.carryingUnwritten(observed, from: r.resource.spec, RoutingFields.root)
        var warnings: [String] = []
        // A hand edit of the file: its non-secret content differs from the manifest while Alertmanager runs the manifest's
        // (a rotated secret alone is a planned change, compared by fingerprint).
        let access = try await context.host(spec.alertmanager.runsOn, for: r.id)
        let files = try await access.filesOwning(spec.alertmanager.configFile)
        if r.lastApplied != nil, observed == r.resource.spec,
            let onDisk = try await files.read(spec.alertmanager.configFile),
            let parsed = YAMLValues.parse(onDisk, file: spec.alertmanager.configFile),
            RoutingConfig.project(
                .map(RoutingConfig.shape(parsed)),
                onto: Self.managed(r.resource.spec),
                also: r.lastApplied.map(Self.managed)
            )
                != Self.managed(r.resource.spec)
        {
            warnings.append(
                "\(spec.alertmanager.configFile) differs from what Setpoint would write (edited by hand?) while Alertmanager runs "
                    + "the manifest's configuration: the next reload would load the edits; change any routing field and apply to rewrite it"
            )
        }
        if r.lastApplied != nil, let facts = try await files.stat(spec.alertmanager.configFile),
            facts.mode & 0o004 != 0,
            (try? render(r.resource).secrets.isEmpty) == false
        {
            warnings.append(
                "\(spec.alertmanager.configFile) holds secrets and every user can read it (mode \(String(facts.mode & 0o777, radix: 8))): "
                    + "chmod o-r it, and let Alertmanager read it through its group (chgrp)"
            )
        }
        return .present(
            ObservedResource(
                spec: observed,
                providerID: spec.alertmanager.url,
                warnings: warnings.isEmpty ? nil : warnings
            )
        )
    }

    /// amtool check-config, an atomic write (the previous file kept), a reload, and the running configuration checked.
    func apply(_ action: Action, resource: Resource?, checks: ToolChecks) async throws {
        let id = action.resource
        func fail(_ message: String) -> SetpointError { SetpointError(.applyFailed, message, resource: id) }
        guard action.verb != .delete, let resource else {
            throw fail(
                "Setpoint does not delete an Alertmanager's configuration: point another AlertRouting at it, or leave it"
            )
        }
        let spec = try resource.decodeSpec(AlertRoutingSpec.self)
        let api = try await api.reaching(spec.alertmanager.url, on: spec.alertmanager.runsOn, context: context, for: id)
        let file = spec.alertmanager.configFile
        let (text, secrets) = try render(resource)
        let access = try await context.host(spec.alertmanager.runsOn, for: id)
        if let result = try await checks.run(
            on: access,
            "amtool",
            ["check-config"],
            text: text,
            fileName: "alertmanager.yml"
        ), !result.ok {
            throw fail(
                "amtool check-config\(access.isLocal ? "" : " on \(access.name)") refused the configuration; nothing was written:\n\(Self.redact(result.output, secrets))"
            )
        }
        let files = try await access.filesOwning(file)
        let previous = try await files.read(file)
        if previous != text {
            do {
                // A new file is private; an existing one keeps its owner, group and mode (Alertmanager may run as
                // another user that reads it through its group).
                if let previous { try await files.write(previous, to: file + ".previous", mode: 0o600, private: true) }
                try await files.write(text, to: file, mode: 0o600, private: false)
            } catch { throw fail("\(error)") }
        }
        let base = Self.base(spec)
        if let refused = try await api.reload(base) {
            if let previous { try? await files.write(previous, to: file, mode: 0o600, private: false) }
            _ = try? await api.reload(base)
            throw fail(
                "Alertmanager refused to reload (\(Self.redact(refused, secrets))); \(file) was put back as it was"
            )
        }
        // The postcondition: Alertmanager runs this configuration.
        let deadline = context.clock.elapsed + .seconds(10)
        while true {
            let observed = try await observe(ResolvedResource(resource: resource))
            if case .present(let now) = observed, Self.managed(now.spec) == Self.managed(resource.spec) { return }
            if context.clock.elapsed > deadline {
                throw SetpointError(
                    .notConverged,
                    "Alertmanager at \(base) does not run the configuration written to \(file) after the reload",
                    resource: id,
                    isTransient: true
                )
            }
            try await context.clock.sleep(for: .milliseconds(100))
        }
    }

    /// Tool and server output never repeats a secret the file holds.
    static func redact(_ output: String, _ secrets: [String]) -> String {
        secrets.filter { !$0.isEmpty }.reduce(output) { $0.replacingOccurrences(of: $1, with: "<secret>") }
    }
}
