import Foundation
import SetpointCore
import SetpointExec
import SetpointRemote

/// `setpoint doctor` for a PrometheusServer: reachable, lifecycle API on (or reload off), the rules folder writable
/// here, and — the hole Prometheus Operator users fall into — Prometheus' `rule_files` actually covering the files
/// Setpoint writes there.
extension PrometheusProvider: HealthChecking {
    public func healthChecks(for resource: Resource, in context: ProviderContext) async -> [HealthCheck] {
        guard resource.id.kind == .prometheusServer, let spec = try? resource.decodeSpec(PrometheusServerSpec.self)
        else { return [] }
        let id = resource.id
        let base = spec.url.hasSuffix("/") ? String(spec.url.dropLast()) : spec.url
        var out: [HealthCheck] = []
        let api: MonitoringAPI
        do {
            api = try await self.api(timeout: spec.requestTimeout).reaching(
                spec.url,
                on: spec.runsOn,
                context: context,
                for: id
            )
        } catch {
            return [HealthCheck(id, "reachability \(base)", .failed, "\(error)")]
        }
        do {
            out.append(HealthCheck(id, "reachability \(base)", .ok, "Prometheus \(try await api.buildVersion(base))"))
        } catch {
            return [HealthCheck(id, "reachability \(base)", .failed, "\(error)")]
        }
        if spec.reload ?? true {
            let flags = (try? await api.json(base + "/api/v1/status/flags"))?["data"] as? [String: Any]
            let lifecycle = flags?["web.enable-lifecycle"] as? String
            out.append(
                lifecycle == "true"
                    ? HealthCheck(id, "reload", .ok, "--web.enable-lifecycle is on: POST /-/reload works")
                    : HealthCheck(
                        id,
                        "reload",
                        .failed,
                        "--web.enable-lifecycle is \(lifecycle ?? "unknown"): Setpoint cannot reload; start Prometheus with it, "
                            + "or set reload: false and reload it yourself"
                    )
            )
        }
        var isDirectory: ObjCBool = false
        if spec.runsOn != nil {
            do {
                let access = try await context.host(spec.runsOn, for: id)
                let facts = try await access.files.stat(spec.rulesDirectory)
                out.append(
                    facts?.isDirectory == true
                        ? HealthCheck(
                            id,
                            "rules folder",
                            .ok,
                            "\(spec.rulesDirectory) is a folder on \(access.name) (owner \(facts!.owner))"
                        )
                        : HealthCheck(
                            id,
                            "rules folder",
                            .failed,
                            "\(spec.rulesDirectory) is not a folder on \(access.name)"
                        )
                )
            } catch {
                out.append(HealthCheck(id, "rules folder", .failed, "\(error)"))
            }
        } else if FileManager.default.fileExists(atPath: spec.rulesDirectory, isDirectory: &isDirectory),
            isDirectory.boolValue,
            access(spec.rulesDirectory, W_OK) == 0
        {
            out.append(HealthCheck(id, "rules folder", .ok, "\(spec.rulesDirectory) is writable here"))
        } else {
            out.append(
                HealthCheck(
                    id,
                    "rules folder",
                    .failed,
                    "\(spec.rulesDirectory) is not a folder this process can write: Setpoint writes "
                        + "rule files there: run it where Prometheus reads them, or name Prometheus' Host with runsOn"
                )
            )
        }
        let config =
            ((try? await api.json(base + "/api/v1/status/config"))?["data"] as? [String: Any])?["yaml"] as? String ?? ""
        let globs =
            YAMLValues.parse(config, file: "rule_files").flatMap { v -> [String]? in
                if case .list(let l)? = v["rule_files"] { return l.compactMap(\.stringValue) } else { return nil }
            } ?? []
        let sample = RuleFiles.path(group: "example", rulesDirectory: spec.rulesDirectory)
        if globs.contains(where: { fnmatch($0, sample, 0) == 0 }) {
            out.append(
                HealthCheck(
                    id,
                    "rule_files",
                    .ok,
                    "Prometheus loads \(spec.rulesDirectory)/setpoint-*.yml (rule_files: \(globs.joined(separator: ", ")))"
                )
            )
        } else {
            out.append(
                HealthCheck(
                    id,
                    "rule_files",
                    .failed,
                    "Prometheus' rule_files (\(globs.isEmpty ? "none" : globs.joined(separator: ", "))) do not "
                        + "match \(sample): the groups Setpoint writes would never load; add '\(spec.rulesDirectory)/*.yml' to rule_files"
                )
            )
        }
        return out
    }
}
