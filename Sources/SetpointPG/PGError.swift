/// A PostgreSQL failure: the server's SQLSTATE and message, or libpq's connection error. Never holds a password:
/// conninfo strings are not part of any message.
public struct PGError: Error, Sendable, CustomStringConvertible {
    /// Five-character SQLSTATE (`28P01` bad password, `42601` syntax error, `57P03` cannot connect now); empty for
    /// connection failures libpq reports without one.
    public var sqlState: String
    /// `ERROR`, `FATAL`, `PANIC` (server) or `CONNECTION` (libpq).
    public var severity: String
    /// The primary message, as the server wrote it.
    public var message: String
    public var detail: String?
    public var hint: String?
    /// Which member or endpoint (host:port) it came from.
    public var endpoint: String

    public init(
        sqlState: String,
        severity: String,
        message: String,
        detail: String? = nil,
        hint: String? = nil,
        endpoint: String
    ) {
        self.sqlState = sqlState
        self.severity = severity
        self.message = message
        self.detail = detail
        self.hint = hint
        self.endpoint = endpoint
    }

    public var description: String {
        var text = "\(endpoint): \(severity)"
        if !sqlState.isEmpty { text += " \(sqlState)" }
        text += ": \(message)"
        if let detail { text += " (\(detail))" }
        if let hint { text += " hint: \(hint)" }
        return text
    }

    /// Worth retrying: the server is starting, shutting down or unreachable, or the connection broke.
    public var isTransient: Bool {
        (severity == "CONNECTION" && sqlState.isEmpty) || sqlState.hasPrefix("08")
            || ["57P01", "57P02", "57P03", "53300", "40001", "40P01"].contains(sqlState)
    }
}
