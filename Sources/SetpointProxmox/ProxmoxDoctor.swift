import Foundation
import SetpointCore
import SetpointHTTP

/// `setpoint doctor` for a ProxmoxCluster: each endpoint reached, the TLS mode, the PVE version, and whether the
/// token holds the privileges the manifests that use this cluster need.
extension ProxmoxProvider: HealthChecking {
    public func healthChecks(for resource: Resource, in context: ProviderContext) async -> [HealthCheck] {
        guard resource.id.kind == .proxmoxCluster else { return [] }
        let id = resource.id
        var checks: [HealthCheck] = []
        let spec: ProxmoxClusterSpec
        do { spec = try resource.decodeSpec(ProxmoxClusterSpec.self) } catch {
            return [HealthCheck(id, "spec", .failed, "\(error)")]
        }
        let plain = spec.endpoints.filter { $0.hasPrefix("http://") }
        if !plain.isEmpty {
            // TLS settings mean nothing for these: say what really happens to the token.
            checks.append(
                HealthCheck(
                    id,
                    "transport",
                    .warning,
                    "plain HTTP to " + plain.joined(separator: ", ")
                        + " (allowPlainHTTP): the API token crosses the network unencrypted; use https://"
                )
            )
        }
        if plain.count == spec.endpoints.count {
            // No endpoint uses TLS: there is no certificate to verify.
        } else if spec.tls?.insecure == true {
            checks.append(
                HealthCheck(
                    id,
                    "tls",
                    .warning,
                    "insecure: true — the API's certificate is NOT verified; anyone on the path can read the token. Use tls.caFile or tls.pinnedPublicKey"
                )
            )
        } else if let ca = spec.tls?.caFile {
            let pin = spec.tls?.pinnedPublicKey.map { " and the pinned key \($0)" } ?? ""
            checks.append(
                HealthCheck(
                    id,
                    "tls",
                    FileManager.default.isReadableFile(atPath: ca) ? .ok : .failed,
                    FileManager.default.isReadableFile(atPath: ca)
                        ? "verified against the CA in \(ca)\(pin)" : "tls.caFile \(ca) cannot be read"
                )
            )
        } else if let pin = spec.tls?.pinnedPublicKey {
            checks.append(HealthCheck(id, "tls", .ok, "verified against the system CAs and the pinned key \(pin)"))
        } else {
            checks.append(HealthCheck(id, "tls", .ok, "verified against the system CAs"))
        }
        let secret: String
        do { secret = try context.secrets.resolve(spec.tokenSecret) } catch {
            checks.append(HealthCheck(id, "token", .failed, "tokenSecret (\(spec.tokenSecret.origin)): \(error)"))
            return checks
        }
        var reachable: ProxmoxAPI?
        for endpoint in spec.endpoints {
            let api = ProxmoxAPI(
                endpoints: [endpoint],
                tokenID: spec.tokenId,
                secret: secret,
                tls: .init(
                    caFile: spec.tls?.caFile,
                    pinnedPublicKey: spec.tls?.pinnedPublicKey,
                    insecure: spec.tls?.insecure ?? false
                ),
                connections: 1,
                timeout: .seconds(10),
                clock: context.clock
            )
            let start = context.clock.elapsed
            do {
                let version = try await api.send("GET", "/version", [:], safety: .once)
                // Whole milliseconds of the round trip, seconds included.
                let ms = Int((context.clock.elapsed - start).inSeconds * 1000)
                checks.append(
                    HealthCheck(
                        id,
                        "reach \(endpoint)",
                        .ok,
                        "Proxmox VE \(version["version"]?.text ?? "?") (release \(version["release"]?.text ?? "?")), answered in \(ms) ms, token \(spec.tokenId) accepted"
                    )
                )
                if reachable == nil { reachable = api }
            } catch {
                checks.append(HealthCheck(id, "reach \(endpoint)", .failed, "\(error)"))
            }
        }
        guard let api = reachable else { return checks }
        let needed = Self.privilegesNeeded(for: id.name, declared: context.declared)
        do {
            let granted = try await api.get("/access/permissions", ["path": "/"])["/"]?.object.keys.map { $0 } ?? []
            let missing = needed.subtracting(granted).sorted()
            checks.append(
                missing.isEmpty
                    ? HealthCheck(
                        id,
                        "privileges",
                        .ok,
                        "token holds all \(needed.count) privileges the manifests need on /"
                    )
                    : HealthCheck(
                        id,
                        "privileges",
                        .failed,
                        "token lacks \(missing.joined(separator: ", ")) on / (needed by the manifests that use \(id))"
                    )
            )
        } catch {
            checks.append(HealthCheck(id, "privileges", .failed, "GET /access/permissions: \(error)"))
        }
        return checks
    }

    /// What the declared resources on this cluster need the token to hold (PVE privilege names).
    static func privilegesNeeded(for cluster: String, declared: [ResourceID: Resource]) -> Set<String> {
        var needed: Set<String> = ["Sys.Audit"]
        for r in declared.values where r.spec["cluster"]?.stringValue == cluster {
            switch r.id.kind {
            case .virtualMachine, .container:
                needed.formUnion([
                    "VM.Audit", "VM.Allocate", "VM.Config.CPU", "VM.Config.Memory", "VM.Config.Disk",
                    "VM.Config.Network",
                    "VM.Config.Options", "VM.PowerMgmt", "VM.Migrate", "Datastore.AllocateSpace", "Datastore.Audit",
                ])
                if r.id.kind == .virtualMachine {
                    needed.formUnion(["VM.Config.HWType"])
                    if r.spec["clone"] != nil { needed.insert("VM.Clone") }
                    if r.spec["cloudInit"] != nil { needed.insert("VM.Config.Cloudinit") }
                }
                if r.spec["pool"] != nil { needed.insert("Pool.Allocate") }
            case .resourcePool:
                needed.formUnion(["Pool.Allocate", "Pool.Audit"])
            case .guestBackupJob:
                needed.insert("Sys.Modify")
            default:
                break
            }
        }
        return needed
    }
}
