import Foundation
public import SetpointCore
import Synchronization

/// The API's bearer tokens, from a file that holds only their SHA-256: one token a line, `ROLE EMAIL sha256:HEX`
/// (`#` comments), then optional words: `unlimited` (no rate limit) and `expires=TIME` (refused from then on; an ISO
/// 8601 time in UTC, or a date meaning its midnight UTC). Roles: viewer (read), approver (read, approve, reject),
/// admin (everything).
///
/// ```text
/// # made with: setpoint token create --role approver --email alice@example.net --expires 90d
/// approver alice@example.net sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 expires=2027-03-07T10:00:00Z
/// ```
public struct Tokens: Sendable {
    public enum Role: String, Sendable, Comparable, CaseIterable {
        case viewer, approver, admin
        private var rank: Int { Role.allCases.firstIndex(of: self)! }
        /// `a viewer`, `an approver`, `an admin`.
        public var withArticle: String { (self == .viewer ? "a " : "an ") + rawValue }
        public static func < (a: Role, b: Role) -> Bool { a.rank < b.rank }
    }

    public struct Identity: Sendable, Equatable {
        public var role: Role
        /// Who the token stands for: recorded in the audit log, compared with a plan's author in four-eyes mode.
        public var email: String
        /// Exempt from the rate limit (a benchmark token): `ROLE EMAIL sha256:HEX unlimited`.
        public var unlimited: Bool
        /// Refused from this time on (`expires=…`); nil: never.
        public var expires: Date? = nil

        /// Why this identity may not do what needs `role` (nil: it may), in the words the API and the page answer.
        public func refusal(needing role: Role) -> String? {
            self.role >= role ? nil : "\(email) is \(self.role.withArticle); this needs the \(role.rawValue) role"
        }
    }

    /// `expires=` as written: an ISO 8601 time with its offset, or a date (its midnight UTC).
    public static func expiry(_ text: String) -> Date? {
        Timestamp.parse(text) ?? (text.count == 10 ? Timestamp.parse(text + "T00:00:00Z") : nil)
    }

    private var byHash: [String: Identity] = [:]

    public init(lines: String, file: String = "tokens") throws {
        for (n, raw) in lines.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            let parts = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard parts.count >= 3, let role = Role(rawValue: parts[0]), parts[1].contains("@"),
                parts[2].hasPrefix("sha256:"), parts[2].count == 71
            else {
                throw SetpointError(
                    .planRefused,
                    "\(file):\(n + 1): expected 'ROLE EMAIL sha256:HEX' with ROLE viewer, approver or admin; "
                        + "make a line with 'setpoint token create'"
                )
            }
            var identity = Identity(role: role, email: parts[1], unlimited: false)
            for word in parts.dropFirst(3) {
                if word == "unlimited" {
                    identity.unlimited = true
                } else if word.hasPrefix("expires="), let at = Self.expiry(String(word.dropFirst(8))) {
                    identity.expires = at
                } else {
                    throw SetpointError(
                        .planRefused,
                        "\(file):\(n + 1): '\(word)' is neither 'unlimited' nor 'expires=TIME' (2027-03-07T10:00:00Z, or a date)"
                    )
                }
            }
            byHash[String(parts[2].dropFirst(7)).lowercased()] = identity
        }
    }

    public static func load(_ path: String) throws -> Tokens {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SetpointError(
                .planRefused,
                "tokens file \(path) cannot be read: create it (setpoint token create …) or fix --tokens"
            )
        }
        return try Tokens(lines: String(decoding: data, as: UTF8.self), file: path)
    }

    /// The identity a bearer token stands for, if any.
    public func identity(_ token: String) -> Identity? { byHash[SHA256.hex(token)] }

    /// The identity of a token known by its SHA-256 (a page session keeps only that).
    public func identity(hash: String) -> Identity? { byHash[hash] }

    public var isEmpty: Bool { byHash.isEmpty }

    /// A new random token and its line for the tokens file (with `expires=` when it has an expiry).
    public static func create(role: Role, email: String, expires: Date? = nil) -> (token: String, line: String) {
        var bytes = [UInt8](repeating: 0, count: 32)
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255) }
        let token = "spt_" + bytes.map { String(format: "%02x", $0) }.joined()
        return (
            token,
            "\(role.rawValue) \(email) sha256:\(SHA256.hex(token))"
                + (expires.map { " expires=\(Timestamp.seconds($0))" } ?? "")
        )
    }
}

/// The tokens the API checks, replaceable while it runs (`setpoint controller` re-reads its tokens file on SIGHUP).
public final class TokenStore: Sendable {
    private let current: Mutex<Tokens>

    public init(_ tokens: Tokens) { current = Mutex(tokens) }

    public var tokens: Tokens { current.withLock { $0 } }

    /// Reads the file again; on an error the tokens in use stay as they were.
    public func reload(_ path: String) throws {
        let fresh = try Tokens.load(path)
        current.withLock { $0 = fresh }
    }
}
