import Foundation
import HTTPTypes
public import Hummingbird
public import Logging
import NIOCore
import SetpointCore
import Synchronization

/// The API's request context: Hummingbird's core storage, the identity the bearer token stood for (set by
/// ``AuthenticationMiddleware``), and the body limit decoding obeys.
public struct APIContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Who sent the request, once authenticated.
    public var identity: Tokens.Identity?
    /// The client's address (the per-address rate limit's key); nil for a request answered in-process.
    public var remoteAddress: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
        remoteAddress = source.channel.remoteAddress?.ipAddress
    }

    /// A context for a request answered in-process (``ControllerAPI/respond(_:)``: fuzzing and tests).
    public init(logger: Logger) {
        coreContext = CoreRequestContextStorage(source: LoggerSource(logger: logger))
    }

    struct LoggerSource: RequestContextSource {
        var logger: Logger
    }

    public var maxUploadSize: Int { ControllerAPI.bodyLimit }

    func requireIdentity() throws -> Tokens.Identity {
        guard let identity else { throw APIError(.unauthorized, "missing bearer token") }
        return identity
    }

    /// The request's JSON body as `T`; nil when there is none.
    func decodeBody<T: Decodable>(_ type: T.Type, from request: Request) async throws -> T? {
        var request = request
        let buffer: ByteBuffer
        do { buffer = try await request.collectBody(upTo: maxUploadSize) } catch { throw HTTPError(.contentTooLarge) }
        guard buffer.readableBytes > 0 else { return nil }
        do { return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView)) } catch {
            throw APIError(
                .badRequest,
                "the body is not a JSON object of the expected form: \(APIError.describe(error))"
            )
        }
    }
}

/// An error answered as `{"error": "…"}` with its status.
public struct APIError: Error, HTTPResponseError {
    public var status: HTTPResponse.Status
    public var message: String

    public init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        Reply.json(status, APIv1.ErrorBody(error: message)).response
    }

    /// A decoding error in a sentence (the field and what was wrong), not Foundation's dump.
    static func describe(_ error: any Error) -> String {
        guard let e = error as? DecodingError else { return "\(error)" }
        func path(_ c: DecodingError.Context) -> String {
            c.codingPath.isEmpty ? "the body" : c.codingPath.map(\.stringValue).joined(separator: ".")
        }
        switch e {
        case .typeMismatch(let t, let c): return "\(path(c)) must be a \(t)"
        case .valueNotFound(let t, let c): return "\(path(c)) must be a \(t), not null"
        case .keyNotFound(let k, _): return "\(k.stringValue) is missing"
        case .dataCorrupted(let c): return "\(path(c)): \(c.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}

/// A finished answer: status, body and content type. JSON bodies are encoded with sorted keys and end with a newline.
struct Reply: ResponseGenerator {
    var status: HTTPResponse.Status
    var body: String
    var contentType = "application/json"

    static func json(_ status: HTTPResponse.Status, _ value: some Encodable) -> Reply {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Reply(status: status, body: String(decoding: data, as: UTF8.self) + "\n")
    }

    var response: Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    func response(from request: Request, context: some RequestContext) throws -> Response { response }
}

/// Outermost: turns every error into `{"error": "…"}` (an unknown path into 404 naming it, an oversized body into
/// 413), marks every answer not to be cached, and gzips bodies of at least ``Gzip/threshold`` bytes for clients that
/// accept it.
struct APIResponseMiddleware: RouterMiddleware {
    typealias Context = APIContext

    func handle(
        _ request: Request,
        context: APIContext,
        next: (Request, APIContext) async throws -> Response
    )
        async throws -> Response
    {
        var response: Response
        do { response = try await next(request, context) } catch let e as APIError {
            response = try e.response(from: request, context: context)
        } catch let e as HTTPError {
            response = Self.reply(for: e, request).response
        } catch {
            context.logger.error("\(request.method) \(request.uri.path): \(error)")
            response = Reply.json(.internalServerError, APIv1.ErrorBody(error: "\(error)")).response
        }
        response.headers[.cacheControl] = "no-store"
        response.headers[.vary] = "Accept-Encoding"
        guard response.headers[.contentEncoding] == nil, let length = response.body.contentLength,
            length >= Gzip.threshold, Gzip.accepted(request.headers[.acceptEncoding])
        else { return response }
        let collected = try await Self.collect(response.body)
        guard let compressed = Gzip.compress(collected) else { return response }
        response.headers[.contentEncoding] = "gzip"
        response.body = ResponseBody(byteBuffer: ByteBuffer(bytes: compressed))
        return response
    }

    static func reply(for error: HTTPError, _ request: Request) -> Reply {
        switch error.status {
        case .notFound, .methodNotAllowed:
            return .json(.notFound, APIv1.ErrorBody(error: "no such path: \(request.method) \(request.uri.path)"))
        case .contentTooLarge:
            return .json(
                .contentTooLarge,
                APIv1.ErrorBody(error: "body over \(ControllerAPI.bodyLimit >> 10) KiB")
            )
        default:
            return .json(error.status, APIv1.ErrorBody(error: error.body ?? error.status.reasonPhrase))
        }
    }

    /// The bytes of a body whose length is known (the API's own answers).
    static func collect(_ body: ResponseBody) async throws -> [UInt8] {
        let sink = Sink()
        try await body.write(sink)
        return sink.bytes.withLock { $0 }
    }

    final class Sink: ResponseBodyWriter, Sendable {
        let bytes = Mutex<[UInt8]>([])
        func write(_ buffer: ByteBuffer) async throws { bytes.withLock { $0 += buffer.readableBytesView } }
        func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }
}

/// The `/api/v1` routes: a known bearer token (401 without), within its rate (429; `unlimited` tokens are exempt).
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = APIContext
    let tokens: TokenStore
    let limiter: RateLimiter
    /// Requests per client address, counted before the token is known to be good: a flood of guesses from one
    /// address is slowed down, whatever tokens it tries. Unlimited tokens are exempt.
    let addresses: RateLimiter

    func handle(
        _ request: Request,
        context: APIContext,
        next: (Request, APIContext) async throws -> Response
    )
        async throws -> Response
    {
        let header = request.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? $0 : nil }
        let token = header.map { String($0.dropFirst(7)).trimmingCharacters(in: .whitespaces) }
        let known = token.flatMap { tokens.tokens.identity($0) }
        if known?.unlimited != true {
            let address = context.remoteAddress ?? "in-process"
            guard addresses.allow(address) else {
                throw APIError(
                    .tooManyRequests,
                    "rate limited: at most \(Int(addresses.perSecond)) requests a second from one address (\(address))"
                )
            }
        }
        guard let token else {
            throw APIError(
                .unauthorized,
                "missing bearer token: send 'Authorization: Bearer TOKEN' (setpoint token create makes one)"
            )
        }
        guard let who = known else {
            throw APIError(.unauthorized, "unknown token: it is not in the controller's tokens file")
        }
        if let expires = who.expires, limiter.now >= expires {
            throw APIError(
                .unauthorized,
                "the token of \(who.email) expired at \(Timestamp.seconds(expires)): make a new one (setpoint token create) "
                    + "and replace its line in the tokens file"
            )
        }
        if !who.unlimited, !limiter.allow(SHA256.hex(token)) {
            throw APIError(
                .tooManyRequests,
                "rate limited: at most \(Int(limiter.perSecond)) requests a second per token"
            )
        }
        var context = context
        context.identity = who
        return try await next(request, context)
    }
}

/// A route's role: 403 when the token's is lower.
struct RoleMiddleware: RouterMiddleware {
    typealias Context = APIContext
    let role: Tokens.Role

    func handle(
        _ request: Request,
        context: APIContext,
        next: (Request, APIContext) async throws -> Response
    )
        async throws -> Response
    {
        let who = try context.requireIdentity()
        if let why = who.refusal(needing: role) { throw APIError(.forbidden, why) }
        return try await next(request, context)
    }
}

/// A body over the limit is refused with 413 before a handler reads it: at once when its Content-Length says so,
/// else when the bytes read pass the limit.
struct BodyLimitMiddleware: RouterMiddleware {
    typealias Context = APIContext
    let limit: Int

    func handle(
        _ request: Request,
        context: APIContext,
        next: (Request, APIContext) async throws -> Response
    )
        async throws -> Response
    {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw HTTPError(.contentTooLarge)
        }
        var request = request
        // A body without a length (chunked), or longer than its length said, is refused as it passes the limit.
        do { _ = try await request.collectBody(upTo: limit) } catch { throw HTTPError(.contentTooLarge) }
        return try await next(request, context)
    }
}

/// A token bucket per identity.
final class RateLimiter: Sendable {
    let perSecond: Double, burst: Double
    private let buckets = Mutex<[String: (tokens: Double, at: Duration)]>([:])
    private let clock: any SetpointClock
    /// The API's one clock's wall time (token expiry is checked against it).
    var now: Date { clock.now }

    init(perSecond: Double, burst: Double, clock: any SetpointClock) {
        self.perSecond = perSecond
        self.burst = burst
        self.clock = clock
    }

    func allow(_ key: String) -> Bool {
        let now = clock.elapsed
        return buckets.withLock { b in
            var entry = b[key] ?? (burst, now)
            let elapsed = now - entry.at
            entry.tokens = min(burst, entry.tokens + elapsed.inSeconds * perSecond)
            entry.at = now
            guard entry.tokens >= 1 else {
                b[key] = entry
                return false
            }
            entry.tokens -= 1
            b[key] = entry
            // Keys come from clients (addresses): buckets that have filled up again are forgotten once there are many.
            if b.count > Self.maxKeys {
                let idle = Duration.milliseconds(Int64(burst / perSecond * 1000))
                b = b.filter { now - $0.value.at < idle }
            }
            return true
        }
    }

    static let maxKeys = 10_000
}

extension Request {
    /// The query's parameters (the first of repeated ones).
    var query: [String: String] {
        Dictionary(uri.queryParameters.map { (String($0.key), String($0.value)) }, uniquingKeysWith: { a, _ in a })
    }
}
