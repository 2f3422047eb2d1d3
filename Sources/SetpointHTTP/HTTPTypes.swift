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
    /// Connect to this Unix socket instead of the URL's host and port (a forward on an SSH connection); the URL still
    /// gives the Host header and the path.
    public var unixSocket: String?

    public init(
        method: String = "GET",
        url: String,
        headers: [(name: String, value: String)] = [],
        body: Data? = nil,
        timeout: Duration = .seconds(30),
        unixSocket: String? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.unixSocket = unixSocket
    }
}

extension HTTPRequest {
    /// The first control character in a header value (a line break would end the header and start another), as
    /// `CR`, `LF`, `NUL` or `U+00XX`; nil when there is none. Tabs are allowed.
    public static func controlCharacter(in value: String) -> String? {
        for scalar in value.unicodeScalars where scalar.value < 0x20 && scalar != "\t" || scalar.value == 0x7F {
            switch scalar {
            case "\r": return "CR"
            case "\n": return "LF"
            case "\0": return "NUL"
            default: return String(format: "U+%04X", scalar.value)
            }
        }
        return nil
    }

    /// The URL without user information (`https://***@host`), for messages.
    public static func redacted(_ url: String) -> String {
        guard let scheme = url.range(of: "://") else { return url }
        let rest = url[scheme.upperBound...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        guard let at = rest[..<authorityEnd].lastIndex(of: "@") else { return url }
        return String(url[..<scheme.upperBound]) + "***" + String(rest[at...])
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

    public var description: String { "\(HTTPRequest.redacted(url)): \(message)" }
}
