public import Foundation

/// One HTTP request.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    /// Header fields in order (`Authorization`, `CSRFPreventionToken`, `Content-Type` …).
    public var headers: [(name: String, value: String)]
    public var body: Data?
    /// The whole request, connecting included.
    public var timeout: Duration

    public init(method: String = "GET", url: String, headers: [(name: String, value: String)] = [], body: Data? = nil,
                timeout: Duration = .seconds(30)) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}

/// A response: any status is a response; only transport failures throw.
public struct HTTPResponse: Sendable {
    public var status: Int
    /// Header names in lower case; the last value wins.
    public var headers: [String: String]
    public var body: Data
    /// The status line's reason phrase (PVE puts its error message there).
    public var reason: String
}

/// How the server's certificate is checked. Verified against the system CAs by default.
public struct TLSOptions: Sendable, Hashable {
    /// PEM file of the CA that signed the server's certificate.
    public var caFile: String?
    /// `sha256//BASE64` of the server's public key: any other key is refused.
    public var pinnedPublicKey: String?
    /// No verification at all (flagged by `setpoint doctor`).
    public var insecure: Bool

    public init(caFile: String? = nil, pinnedPublicKey: String? = nil, insecure: Bool = false) {
        self.caFile = caFile
        self.pinnedPublicKey = pinnedPublicKey
        self.insecure = insecure
    }
}

/// A transport failure: no response was received.
public struct HTTPError: Error, Sendable, CustomStringConvertible {
    /// libcurl's code (`CURLE_*`).
    public var code: Int
    public var message: String
    public var url: String
    /// Worth retrying (connection refused or reset, timeout) as opposed to a TLS or usage problem.
    public var isTransient: Bool

    public init(code: Int, message: String, url: String, isTransient: Bool) {
        self.code = code
        self.message = message
        self.url = url
        self.isTransient = isTransient
    }

    public var description: String { "\(url): \(message)" }
}
