import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL

/// `pve-sim`'s HTTP(S) front: `/api2/json/…` as pveproxy serves it, plus `GET /pve-sim/stats` (request counts by
/// endpoint and what was ever created — not a PVE path).
public enum PVESimServer {
    public struct Running: Sendable {
        public let port: Int
        public let simulator: PVESimulator
        public let tls: SelfSignedCA?
        let task: Task<Void, any Error>

        public var baseURL: String { "\(tls == nil ? "http" : "https")://127.0.0.1:\(port)/api2/json" }

        /// Stops the server (in-process use).
        public func stop() async {
            task.cancel()
            _ = await task.result
        }
    }

    /// Starts serving; returns once the port is bound (port 0 picks a free one).
    public static func start(
        _ simulator: PVESimulator,
        host: String = "127.0.0.1",
        port: Int = 8006,
        tls: SelfSignedCA?,
        logger: Logger = Logger(label: "pve-sim")
    ) async throws -> Running {
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            try await respond(request, simulator: simulator)
        }
        let http1 = HTTP1Channel.Configuration(additionalChannelHandlers: [ReasonPhraseInstaller()])
        let server: HTTPServerBuilder
        if let tls {
            let config = TLSConfiguration.makeServerConfiguration(
                certificateChain: [
                    .certificate(try NIOSSLCertificate(bytes: Array(tls.certificatePEM.utf8), format: .pem))
                ],
                privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(tls.privateKeyPEM.utf8), format: .pem))
            )
            server = try .tls(.http1(configuration: http1), tlsConfiguration: config)
        } else {
            server = .http1(configuration: http1)
        }
        let (bound, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            responder: responder,
            server: server,
            configuration: ApplicationConfiguration(
                address: .hostname(host, port: port),
                serverName: "pve-api-daemon/3.0"
            ),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? port)
                continuation.finish()
            },
            logger: logger
        )
        let task = Task { try await app.run() }
        var iterator = bound.makeAsyncIterator()
        guard let actual = await iterator.next() else {
            _ = await task.result
            throw PVEError("pve-sim could not listen on \(host):\(port)")
        }
        return Running(port: actual, simulator: simulator, tls: tls, task: task)
    }

    static func respond(_ request: Request, simulator: PVESimulator) async throws -> Response {
        var request = request
        let path = request.uri.path
        if path == "/pve-sim/stats" {
            let snapshot = await simulator.snapshot
            let stats = JSONValue.object([
                "requests": .object(await simulator.requestCounts.mapValues { .int($0) }),
                "total": .int(await simulator.totalRequests),
                "createdVMIDs": .object(
                    Dictionary(
                        uniqueKeysWithValues: snapshot.createdVMIDs.map { (String($0.key), JSONValue.int($0.value)) }
                    )
                ),
                "createdNames": .object(snapshot.createdNames.mapValues { .int($0) }),
            ])
            return jsonResponse(SimResponse.ok(stats))
        }
        guard path.hasPrefix("/api2/json") else {
            return jsonResponse(.error(501, "Unsupported format in '\(path)' (pve-sim serves /api2/json)"))
        }
        let apiPath = String(path.dropFirst("/api2/json".count))
        var params = SimRequest.formDecode(request.uri.query ?? "")
        let body = try await request.collectBody(upTo: 4 << 20)
        if body.readableBytes > 0 {
            let data = Data(body.readableBytesView)
            let contentType = request.headers[.contentType] ?? ""
            if contentType.contains("json") {
                guard let json = SimRequest.jsonDecode(data) else {
                    return jsonResponse(.error(400, "malformed JSON body"))
                }
                params.merge(json) { _, b in b }
            } else {
                params.merge(SimRequest.formDecode(String(decoding: data, as: UTF8.self))) { _, b in b }
            }
        }
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let segments = apiPath.split(separator: "/").map { String($0).removingPercentEncoding ?? String($0) }
        let sim = SimRequest(
            method: request.method.rawValue,
            path: "/" + segments.joined(separator: "/"),
            params: params,
            headers: headers
        )
        return jsonResponse(await simulator.handle(sim))
    }

    static func jsonResponse(_ r: SimResponse) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json;charset=UTF-8"
        headers[.cacheControl] = "max-age=0"
        if r.status != 200, let name = HTTPField.Name(ReasonPhraseWriter.header) { headers[name] = r.reason }
        return Response(
            status: HTTPResponse.Status(code: r.status, reasonPhrase: r.reason),
            headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(string: r.body.serialized))
        )
    }
}
