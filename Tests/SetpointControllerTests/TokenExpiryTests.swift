import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SetpointCore
import SetpointEngine
import SetpointState
import SetpointTesting
import Testing

@testable import SetpointController

/// An API over an empty in-memory store with these tokens, on `clock`.
func tokenTestAPI(_ lines: String, clock: ManualClock = ManualClock()) throws -> ControllerAPI {
    let store = InMemoryStateStore()
    return ControllerAPI(
        store: store,
        status: ControllerStatus(),
        reconciler: Reconciler(
            Reconciler.Configuration(
                paths: [],
                providers: [],
                secrets: EnvironmentSecretResolver(environment: [:]),
                clock: clock
            ),
            store: store
        ),
        tokens: TokenStore(try Tokens(lines: lines)),
        fourEyes: false
    )
}

/// Tokens with an expiry (`expires=` in the tokens file, `setpoint token create --expires`): refused from that time on,
/// by the API's clock, saying whose token it was and what to do.
@Suite(.timeLimit(.minutes(3))) struct TokenExpiryTests {
    static let hash = SHA256.hex("t")

    @Test func theTokensFileReadsExpiries() throws {
        let tokens = try Tokens(
            lines: """
                viewer a@example.net sha256:\(Self.hash) expires=2027-03-07T10:00:00Z
                admin b@example.net sha256:\(SHA256.hex("u")) unlimited expires=2027-03-08
                approver c@example.net sha256:\(SHA256.hex("v"))
                """
        )
        #expect(tokens.identity("t")?.expires == Timestamp.parse("2027-03-07T10:00:00Z"))
        #expect(tokens.identity("u")?.expires == Timestamp.parse("2027-03-08T00:00:00Z"))
        #expect(tokens.identity("u")?.unlimited == true)
        #expect(tokens.identity("v")?.expires == nil)
        for bad in ["expires=tomorrow", "expires=", "forever"] {
            #expect {
                try Tokens(lines: "# c\nviewer a@example.net sha256:\(Self.hash) \(bad)", file: "/etc/setpoint/tokens")
            } throws: { error in
                "\(error)".contains("/etc/setpoint/tokens:2:") && "\(error)".contains("'\(bad)'")
            }
        }
    }

    @Test func aCreatedLineCarriesItsExpiry() throws {
        let at = try #require(Timestamp.parse("2027-03-07T10:00:00Z"))
        let (token, line) = Tokens.create(role: .viewer, email: "a@example.net", expires: at)
        #expect(line.hasSuffix(" expires=2027-03-07T10:00:00Z"))
        #expect(try Tokens(lines: line).identity(token)?.expires == at)
    }

    @Test func anExpiredTokenIsRefusedByTheAPIsClock() async throws {
        let clock = ManualClock(now: try #require(Timestamp.parse("2027-03-07T09:59:00Z")))
        let api = try tokenTestAPI(
            "viewer a@example.net sha256:\(Self.hash) unlimited expires=2027-03-07T10:00:00Z",
            clock: clock
        )
        func get() async throws -> (HTTPResponse.Status, String) {
            try await Application(router: api.router()).test(.router) { client in
                try await client.execute(uri: "/api/v1/plans", method: .get, headers: [.authorization: "Bearer t"]) {
                    ($0.status, String(buffer: $0.body))
                }
            }
        }
        #expect(try await get().0 == .ok, "a minute before its expiry")
        await clock.advance(by: .seconds(60))
        let (status, text) = try await get()
        #expect(status == .unauthorized)
        #expect(text.contains("the token of a@example.net expired at 2027-03-07T10:00:00Z"), "\(text)")
    }
}

/// The per-address rate limit: counted before the token is known to be good, so guessing tokens from one address is
/// slowed down; an unlimited token is exempt.
@Suite(.timeLimit(.minutes(3))) struct AddressRateLimitTests {
    @Test func guessesFromOneAddressRunIntoItsLimit() async throws {
        let api = try tokenTestAPI(
            """
            viewer good@example.net sha256:\(SHA256.hex("good"))
            viewer bench@example.net sha256:\(SHA256.hex("bench")) unlimited
            """
        )
        try await Application(router: api.router()).test(.router) { client in
            func get(_ token: String) async throws -> (HTTPResponse.Status, String) {
                try await client.execute(
                    uri: "/api/v1/plans",
                    method: .get,
                    headers: [.authorization: "Bearer \(token)"]
                ) {
                    ($0.status, String(buffer: $0.body))
                }
            }
            // The burst (100) of guesses is answered 401; the clock stands still, so the next is refused for the
            // address, and so is a good token from it; an unlimited one is not.
            for i in 0..<100 { #expect(try await get("guess-\(i)").0 == .unauthorized) }
            let (status, text) = try await get("guess-100")
            #expect(status == .tooManyRequests && text.contains("from one address"), "\(text)")
            #expect(try await get("good").0 == .tooManyRequests)
            #expect(try await get("bench").0 == .ok)
        }
    }
}
