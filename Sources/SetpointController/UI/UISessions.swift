import Foundation
public import SetpointCore
import Synchronization

/// The approvals page's sign-ins: an API token, given once on the sign-in form, becomes a session — a random id in an
/// HttpOnly, Secure, SameSite=Strict cookie — that lasts ``ttl`` at most, and never past the token's own expiry. Every
/// request checks the session against the tokens in use: a token removed from the tokens file (and SIGHUP) ends its
/// sessions, an expired one too. Each session has its own CSRF token, which every form carries. Sessions live in
/// memory: a restart signs everyone out.
public final class UISessions: Sendable {
    public struct Session: Sendable {
        /// SHA-256 of the API token it was made from (the token itself is not kept).
        var tokenHash: String
        var email: String
        var expires: Date
        /// The forms' CSRF token.
        var csrf: String
    }

    /// Why a cookie is no session.
    public enum Refusal: Sendable, Equatable {
        case none, expired, revoked
    }

    public let ttl: Duration
    private let sessions = Mutex<[String: Session]>([:])
    /// Sessions kept at most; beyond it expired ones are dropped, then the oldest.
    static let capacity = 10_000
    static let perToken = 20

    public init(ttl: Duration = .seconds(8 * 3600)) { self.ttl = ttl }

    /// A new session for a token's identity: its cookie value and its CSRF token.
    func create(tokenHash: String, identity: Tokens.Identity, now: Date) -> (id: String, session: Session) {
        let id = Self.random()
        var expires = now.addingTimeInterval(ttl.inSeconds)
        if let limit = identity.expires, limit < expires { expires = limit }
        let session = Session(tokenHash: tokenHash, email: identity.email, expires: expires, csrf: Self.random())
        sessions.withLock { all in
            // One token holds at most 20 sessions (its oldest goes first): a token cannot crowd out everyone else's.
            let mine = all.filter { $0.value.tokenHash == tokenHash }
            if mine.count >= Self.perToken, let oldest = mine.min(by: { $0.value.expires < $1.value.expires }) {
                all.removeValue(forKey: oldest.key)
            }
            if all.count >= Self.capacity {
                all = all.filter { $0.value.expires > now }
                while all.count >= Self.capacity, let oldest = all.min(by: { $0.value.expires < $1.value.expires }) {
                    all.removeValue(forKey: oldest.key)
                }
            }
            all[SHA256.hex(id)] = session
        }
        return (id, session)
    }

    /// The session a cookie stands for, with the identity its token has now; or why there is none.
    func resolve(_ id: String?, tokens: Tokens, now: Date) -> Result<(Session, Tokens.Identity), RefusalError> {
        guard let id, !id.isEmpty else { return .failure(RefusalError(.none)) }
        let key = SHA256.hex(id)
        guard let session = sessions.withLock({ $0[key] }) else { return .failure(RefusalError(.none)) }
        guard session.expires > now else {
            end(id)
            return .failure(RefusalError(.expired))
        }
        guard let identity = tokens.identity(hash: session.tokenHash), identity.email == session.email else {
            end(id)
            return .failure(RefusalError(.revoked))
        }
        if let limit = identity.expires, limit <= now {
            end(id)
            return .failure(RefusalError(.expired))
        }
        return .success((session, identity))
    }

    func end(_ id: String) { _ = sessions.withLock { $0.removeValue(forKey: SHA256.hex(id)) } }

    var count: Int { sessions.withLock { $0.count } }

    struct RefusalError: Error {
        var refusal: Refusal
        init(_ refusal: Refusal) { self.refusal = refusal }
    }

    /// 32 random bytes as hex.
    static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}
