import Foundation
import SetpointCore
import SetpointHTTP
import Synchronization

/// An error PVE answered: its status, its message (the status line's reason) and any parameter errors.
struct PVEAPIError: Error, CustomStringConvertible {
    var status: Int
    var message: String
    var errors: [String: String]
    var method: String
    var path: String
    /// The endpoint that answered (`https://pve2:8006`): with several, the one to look at.
    var endpoint: String = ""

    var description: String {
        // The URL as curl would take it: the endpoint, the API root, the path.
        var text = "\(method) \(endpoint)/api2/json\(path): \(status) \(message)"
        if !errors.isEmpty {
            text +=
                " ("
                + errors.keys.sorted().map { "\($0): \(errors[$0]!.trimmingCharacters(in: .newlines))" }.joined(
                    separator: "; "
                ) + ")"
        }
        return text
    }

    /// The config file or a guest is locked, or the cluster file system was busy: worth waiting and retrying.
    var isLockContention: Bool {
        message.contains(" is locked (") || message.hasPrefix("can't lock file") || message.contains("got timeout")
    }

    var isDigestMismatch: Bool {
        message.hasPrefix("checksum mismatch") || message.hasPrefix("detected modified configuration")
    }

    /// No answer from the node behind the proxy (595/596), or the server failed: the request may or may not have run.
    /// PVE refused the request itself (parameter verification, authentication, a missing privilege): sending it
    /// again unchanged gets the same answer.
    var isTerminal: Bool { status == 400 || status == 401 || status == 403 }

    var isUncertain: Bool { status >= 502 || status == 500 && message.contains("got timeout") }
}

/// How a write may be retried after a failure whose outcome is unknown.
enum WriteSafety {
    /// Never (a create): the caller finds out what happened instead.
    case once
    /// Guarded (a `digest`) or idempotent (setting a pool's comment): retried with backoff.
    case retryable
}

/// The Proxmox VE API of one cluster: token auth, failover across endpoints, retries with jittered backoff for
/// reads and guarded writes, UPID tasks awaited with their log quoted on failure.
final class ProxmoxAPI: Sendable {
    let endpoints: [String]
    let authorization: String
    let client: HTTPClient
    let timeout: Duration
    /// Backoff and task polling sleep on it.
    let clock: any SetpointClock
    let maxAttempts = 5
    /// Index of the endpoint that answered last (failover moves it on).
    private let preferred = Mutex(0)
    /// Requests sent, for the N+3 observation budget and the benchmark.
    let requestCount = Mutex(0)

    init(
        endpoints: [String],
        tokenID: String,
        secret: String,
        tls: TLSOptions,
        connections: Int,
        timeout: Duration,
        clock: any SetpointClock
    ) {
        self.clock = clock
        self.endpoints = endpoints.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.authorization = "PVEAPIToken=\(tokenID)=\(secret)"
        self.client = HTTPClient(tls: tls, connections: connections)
        self.timeout = timeout
    }

    func get(_ path: String, _ params: [String: String] = [:]) async throws -> PVEJSON {
        try await send("GET", path, params, safety: .retryable)
    }

    func post(_ path: String, _ params: [String: String] = [:], safety: WriteSafety) async throws -> PVEJSON {
        try await send("POST", path, params, safety: safety)
    }

    func put(_ path: String, _ params: [String: String] = [:], safety: WriteSafety) async throws -> PVEJSON {
        try await send("PUT", path, params, safety: safety)
    }

    func delete(_ path: String, _ params: [String: String] = [:], safety: WriteSafety) async throws -> PVEJSON {
        try await send("DELETE", path, params, safety: safety)
    }

    static func form(_ params: [String: String]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return params.keys.sorted().map {
            "\($0)=\(params[$0]!.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")"
        }
        .joined(separator: "&")
    }

    /// One API call. Transport failures move to the next endpoint; reads and retryable writes are retried with
    /// jittered exponential backoff on transport errors, 5xx and lock contention.
    func send(_ method: String, _ path: String, _ params: [String: String], safety: WriteSafety) async throws -> PVEJSON
    {
        var attempt = 0
        var lastError: any Error = PVEAPIError(
            status: 0,
            message: "no endpoint",
            errors: [:],
            method: method,
            path: path
        )
        while attempt < maxAttempts {
            attempt += 1
            let index = preferred.withLock { $0 } % endpoints.count
            var url = endpoints[index] + "/api2/json" + path
            var body: Data?
            var headers: [(name: String, value: String)] = [
                ("Authorization", authorization), ("Accept", "application/json"),
            ]
            if method == "GET" || method == "DELETE" {
                if !params.isEmpty { url += "?" + Self.form(params) }
            } else {
                body = Data(Self.form(params).utf8)
                headers.append(("Content-Type", "application/x-www-form-urlencoded"))
            }
            requestCount.withLock { $0 += 1 }
            let response: HTTPResponse
            do {
                response = try await client.send(
                    HTTPRequest(method: method, url: url, headers: headers, body: body, timeout: timeout)
                )
                ProviderRequests.shared.record("proxmox", ok: response.status == 200)
            } catch let error as HTTPError {
                ProviderRequests.shared.record("proxmox", ok: false)
                lastError = error
                // TLS and usage errors will not get better; a connection that never opened can go elsewhere.
                guard error.isTransient else { throw error }
                if endpoints.count > 1 { preferred.withLock { $0 = (index + 1) % endpoints.count } }
                // Only a connection that never opened (CURLE_COULDNT_RESOLVE_HOST 6, CURLE_COULDNT_CONNECT 7) proves
                // the request was not sent; a timeout or a reset may come after PVE acted.
                let neverSent = error.code == 6 || error.code == 7
                guard method == "GET" || safety == .retryable || neverSent else { throw error }
                try await backoff(attempt)
                continue
            }
            if response.status == 200 {
                return (try? PVEJSON.parse(response.body))?["data"] ?? .null
            }
            let parsed = try? PVEJSON.parse(response.body)
            var message = response.reason
            if message.isEmpty || message == "Internal Server Error", let m = parsed?["message"]?.text { message = m }
            let error = PVEAPIError(
                status: response.status,
                message: message.trimmingCharacters(in: .whitespacesAndNewlines),
                errors: parsed?["errors"]?.object.compactMapValues(\.text) ?? [:],
                method: method,
                path: path,
                endpoint: endpoints[index]
            )
            lastError = error
            let retry = (error.isUncertain || error.isLockContention) && (method == "GET" || safety == .retryable)
            guard retry, attempt < maxAttempts else { throw error }
            try await backoff(attempt)
        }
        throw lastError
    }

    private func backoff(_ attempt: Int) async throws {
        let base = min(2000.0, 100.0 * pow(2, Double(attempt - 1)))
        try await clock.sleep(for: .milliseconds(Int(base / 2 + Double.random(in: 0...(base / 2)))))
    }

    // MARK: Tasks

    /// Waits for a UPID; throws with the task log's tail when it failed.
    func wait(_ upid: String, node: String? = nil) async throws {
        let fields = upid.split(separator: ":", omittingEmptySubsequences: false)
        let node = node ?? (fields.count > 1 ? String(fields[1]) : "")
        let escaped = upid.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? upid
        var delay = 50.0
        while true {
            let status = try await get("/nodes/\(node)/tasks/\(escaped)/status")
            if status["status"]?.text == "stopped" {
                let exit = status["exitstatus"]?.text ?? "unknown"
                if exit == "OK" || exit.hasPrefix("WARNINGS") { return }
                let log =
                    (try? await get("/nodes/\(node)/tasks/\(escaped)/log", ["start": "0", "limit": "500"]))?.array ?? []
                let tail = log.suffix(8).compactMap { $0["t"]?.text }.joined(separator: "\n    ")
                throw TaskFailure(upid: upid, exitStatus: exit, logTail: tail)
            }
            try await clock.sleep(for: .milliseconds(Int(delay)))
            delay = min(1000, delay * 1.5)
        }
    }
}

/// A PVE task that ended in error, with the tail of its log.
struct TaskFailure: Error, CustomStringConvertible {
    var upid: String
    var exitStatus: String
    var logTail: String

    var description: String {
        "task \(upid) failed: \(exitStatus)" + (logTail.isEmpty ? "" : "\n  task log:\n    \(logTail)")
    }
}
