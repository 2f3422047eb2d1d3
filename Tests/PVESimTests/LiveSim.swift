import Foundation
import Logging
import PVESim
import SetpointHTTP
import Testing

/// pve-sim served over HTTPS on a free loopback port, called through SetpointHTTP with the sim's CA.
struct LiveSim {
    let running: PVESimServer.Running
    let client: HTTPClient
    var base: String { running.baseURL }

    static func start(_ configure: (inout SimOptions) -> Void = { _ in }) async throws -> LiveSim {
        var options = SimOptions()
        options.taskSeconds = 0.05
        configure(&options)
        let tls = try SelfSignedCA.make()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pve-sim-ca-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let ca = dir.appendingPathComponent("ca.pem").path
        try tls.caPEM.write(toFile: ca, atomically: true, encoding: .utf8)
        var logger = Logger(label: "pve-sim-test")
        logger.logLevel = .critical  // stopping the server logs the cancelled connections
        let running = try await PVESimServer.start(PVESimulator(options: options), port: 0, tls: tls, logger: logger)
        return LiveSim(running: running, client: HTTPClient(tls: TLSOptions(caFile: ca), connections: 2))
    }

    func stop() async {
        client.shutdown()
        await running.stop()
    }

    static func form(_ params: [String: String]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return params.keys.sorted().map {
            "\($0)=\(params[$0]!.addingPercentEncoding(withAllowedCharacters: allowed)!)"
        }.joined(separator: "&")
    }

    /// One raw request: status, reason phrase, parsed body.
    func request(
        _ method: String,
        _ path: String,
        _ params: [String: String] = [:],
        headers: [(name: String, value: String)] = [("Authorization", Sim.token)]
    ) async throws -> (Int, String, JSONValue) {
        var url = base + path
        var body: Data?
        var headers = headers
        if method == "GET" || method == "DELETE" {
            if !params.isEmpty { url += "?" + Self.form(params) }
        } else {
            body = Data(Self.form(params).utf8)
            headers.append(("Content-Type", "application/x-www-form-urlencoded"))
        }
        let r = try await client.send(HTTPRequest(method: method, url: url, headers: headers, body: body))
        return (r.status, r.reason, try JSONValue.parse(r.body))
    }

    @discardableResult
    func ok(
        _ method: String,
        _ path: String,
        _ params: [String: String] = [:],
        sourceLocation: SourceLocation = #_sourceLocation
    )
        async throws -> JSONValue
    {
        let (status, reason, body) = try await request(method, path, params)
        try #require(status == 200, "\(method) \(path): \(status) \(reason)", sourceLocation: sourceLocation)
        return body["data"] ?? .null
    }

    /// Polls a task until it stops; returns its status.
    @discardableResult
    func wait(_ upid: JSONValue, sourceLocation: SourceLocation = #_sourceLocation) async throws -> JSONValue {
        let id = try #require(upid.stringValue, sourceLocation: sourceLocation)
        let node = id.split(separator: ":")[1]
        let escaped = id.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        for _ in 0..<200 {
            let status = try await ok("GET", "/nodes/\(node)/tasks/\(escaped)/status", sourceLocation: sourceLocation)
            if status["status"] == .string("stopped") { return status }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("task \(id) did not finish", sourceLocation: sourceLocation)
        return .null
    }
}
