/// Where a secret comes from. Secrets are never written inline in manifests, and a reference is resolved only
/// when a provider needs the value. Printing a reference prints `(sensitive)`.
public enum SecretReference: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The value of an environment variable of the Setpoint process.
    case env(String)
    /// The contents of a file (a trailing newline is dropped when resolved).
    case file(String)

    public var description: String { "(sensitive)" }

    /// Where it points, for messages that must say which reference failed (never the value).
    public var origin: String {
        switch self {
        case .env(let name): "env \(name)"
        case .file(let path): "file \(path)"
        }
    }
}
