import Foundation
import SetpointCore
import SetpointHTTP
import SetpointRemote

/// Prometheus' and Alertmanager's HTTP APIs, as far as Setpoint uses them.
struct MonitoringAPI: Sendable {
    let client: HTTPClient
    let timeout: Duration
    /// For a server behind a jump host: the socket of a forward on its Host's connection, which every request uses.
    var socket: String? = nil

    /// This API, reaching `url`'s server through its Host's connection when that Host is behind a jump host.
    func reaching(
        _ url: String,
        on runsOn: String?,
        context: ProviderContext,
        for id: ResourceID
    ) async throws
        -> MonitoringAPI
    {
        guard context.isBehindJump(runsOn), let parts = URLComponents(string: url), let host = parts.host else {
            return self
        }
        let access = try await context.host(runsOn, for: id)
        let port = parts.port ?? (parts.scheme == "https" ? 443 : 80)
        var api = self
        api.socket = try await access.forwardSocket(to: host, port: port)
        return api
    }

    struct Failure: Error, Sendable, CustomStringConvertible {
        var status: Int?
        var message: String
        var isTransient: Bool
        var description: String { message }
    }

    func send(_ method: String, _ url: String) async throws -> (status: Int, body: Data) {
        do {
            let r = try await client.send(HTTPRequest(method: method, url: url, timeout: timeout, unixSocket: socket))
            ProviderRequests.shared.record("prometheus", ok: r.status < 400)
            return (r.status, r.body)
        } catch let error as HTTPError {
            ProviderRequests.shared.record("prometheus", ok: false)
            throw Failure(status: nil, message: "\(error)", isTransient: error.isTransient)
        }
    }

    func json(_ url: String) async throws -> [String: Any] {
        let (status, body) = try await send("GET", url)
        guard status == 200 else {
            throw Failure(
                status: status,
                message: "GET \(url): HTTP \(status): \(String(decoding: body.prefix(300), as: UTF8.self))",
                isTransient: status >= 500
            )
        }
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            throw Failure(
                status: status,
                message: "GET \(url): not JSON: \(String(decoding: body.prefix(200), as: UTF8.self))",
                isTransient: false
            )
        }
        return object
    }

    /// `POST /-/reload`: nil when it reloaded, else what the server said (Prometheus answers 500 and keeps its rules).
    func reload(_ base: String) async throws -> String? {
        let (status, body) = try await send("POST", base + "/-/reload")
        if status == 200 { return nil }
        let text = String(decoding: body.prefix(2000), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if status == 403 || status == 404 {
            return "HTTP \(status): \(text) (is the lifecycle API enabled? Prometheus needs --web.enable-lifecycle)"
        }
        return "HTTP \(status): \(text)"
    }

    // MARK: Prometheus

    /// A loaded rule group as `/api/v1/rules` shows it.
    struct LoadedGroup: Sendable {
        var name: String
        var file: String
        var intervalSeconds: Double?
        var limit: Int?
        var rules: [LoadedRule]
    }

    struct LoadedRule: Sendable {
        var type: String
        var name: String
        var query: String
        var forSeconds: Double?
        var keepFiringForSeconds: Double?
        var labels: [String: String]
        var annotations: [String: String]
        var health: String?
        var lastError: String?
    }

    func buildVersion(_ base: String) async throws -> String {
        let o = try await json(base + "/api/v1/status/buildinfo")
        return ((o["data"] as? [String: Any])?["version"] as? String) ?? "?"
    }

    func rules(_ base: String) async throws -> [LoadedGroup] {
        let o = try await json(base + "/api/v1/rules")
        let groups = ((o["data"] as? [String: Any])?["groups"] as? [[String: Any]]) ?? []
        return groups.map { g in
            LoadedGroup(
                name: g["name"] as? String ?? "",
                file: g["file"] as? String ?? "",
                intervalSeconds: g["interval"] as? Double,
                limit: g["limit"] as? Int,
                rules: ((g["rules"] as? [[String: Any]]) ?? []).map { r in
                    LoadedRule(
                        type: r["type"] as? String ?? "",
                        name: r["name"] as? String ?? "",
                        query: r["query"] as? String ?? "",
                        forSeconds: r["duration"] as? Double,
                        keepFiringForSeconds: r["keepFiringFor"] as? Double,
                        labels: r["labels"] as? [String: String] ?? [:],
                        annotations: r["annotations"] as? [String: String] ?? [:],
                        health: r["health"] as? String,
                        lastError: r["lastError"] as? String
                    )
                }
            )
        }
    }

    // MARK: Alertmanager

    /// `config.original` of `/api/v2/status`: the configuration Alertmanager runs, secrets masked.
    func alertmanagerConfig(_ base: String) async throws -> String {
        let o = try await json(base + "/api/v2/status")
        guard let text = (o["config"] as? [String: Any])?["original"] as? String else {
            throw Failure(status: 200, message: "GET \(base)/api/v2/status: no config.original", isTransient: false)
        }
        return text
    }
}
