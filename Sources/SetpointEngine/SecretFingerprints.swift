import Foundation
public import SetpointCore

/// Resolves secret references from the environment of the process or from files.
public struct EnvironmentSecretResolver: SecretResolver {
    public var environment: [String: String]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    public func resolve(_ reference: SecretReference) throws -> String {
        switch reference {
        case .env(let name):
            guard let value = environment[name] else {
                throw SetpointError(.secretUnavailable, "secret from env \(name) is not set")
            }
            return value
        case .file(let path):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw SetpointError(.secretUnavailable, "secret file \(path) cannot be read")
            }
            var text = String(decoding: data, as: UTF8.self)
            if text.hasSuffix("\n") { text.removeLast() }
            if text.hasSuffix("\r") { text.removeLast() }
            return text
        }
    }
}

/// Fingerprints of write-only values for `Differ`: a secret is hashed by its resolved value (salted with the field
/// path), so rotating the secret behind an unchanged reference is a change; when it cannot be resolved (a CI plan
/// without secrets), the reference is hashed instead.
public enum SecretFingerprints {
    public static func make(_ resolver: any SecretResolver) -> @Sendable (FieldPath, Value) -> String {
        { path, value in
            if case .secret(let ref) = value, let secret = try? resolver.resolve(ref) {
                return "sha256:" + SHA256.hex("setpoint/v1\u{0}\(path)\u{0}\(secret)")
            }
            return CanonicalJSON.digest(value)
        }
    }
}
