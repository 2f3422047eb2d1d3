import Foundation
import HTTPTypes
import SetpointCore
import Synchronization

/// Push webhooks from GitHub and GitLab: a verified push to the followed branch starts a pass at once instead of at the
/// end of the interval. GitHub signs the body (`X-Hub-Signature-256: sha256=HMAC-SHA256(secret, body)`); GitLab sends
/// the secret itself (`X-Gitlab-Token`), compared in constant time. A delivery id seen before is refused (a replay),
/// and so is a body beyond ``bodyLimit``. Nothing in a webhook is trusted beyond "look now": the pass fetches the
/// remote itself.
public struct Webhooks: Sendable {
    /// The shared secret (GitHub's webhook secret, GitLab's secret token).
    let secret: [UInt8]
    /// Only pushes to this branch start a pass (nil: any branch).
    public let branch: String?
    let deliveries = Deliveries()

    public init(secret: String, branch: String?) {
        self.secret = Array(secret.utf8)
        self.branch = branch
    }

    /// Push payloads are small; GitHub caps deliveries at 25 MB, a push of many commits stays well under this.
    public static let bodyLimit = 1 << 20

    public enum Source: String, Sendable {
        case github, gitlab
    }

    /// What a delivery comes to.
    public enum Outcome: Sendable, Equatable {
        /// A push to the followed branch: a pass now.
        case push(branch: String, delivery: String?)
        /// Verified, but nothing to do (a ping, another event, another branch): why.
        case ignored(String)
    }

    public struct Refusal: Error, Sendable, Equatable {
        public var status: HTTPResponse.Status
        public var message: String
    }

    /// Delivery ids already taken, the newest `capacity` of them.
    final class Deliveries: Sendable {
        static let capacity = 4096
        let seen = Mutex<(order: [String], ids: Set<String>)>(([], []))

        /// True the first time an id is seen.
        func first(_ id: String) -> Bool {
            seen.withLock { s in
                guard s.ids.insert(id).inserted else { return false }
                s.order.append(id)
                if s.order.count > Self.capacity { s.ids.remove(s.order.removeFirst()) }
                return true
            }
        }
    }

    /// Checks a delivery: its signature or token first (nothing is read from a body that is not the sender's), then
    /// its delivery id, its event and its branch.
    public func verify(_ source: Source, headers: HTTPFields, body: [UInt8]) throws(Refusal) -> Outcome {
        func header(_ name: String) -> String? { HTTPField.Name(name).flatMap { headers[$0] } }
        switch source {
        case .github:
            guard let signature = header("X-Hub-Signature-256") else {
                throw Refusal(
                    status: .unauthorized,
                    message: "no X-Hub-Signature-256: set the webhook's secret on GitHub"
                )
            }
            let expected = "sha256=" + SHA256.hexString(HMACSHA256.authenticate(body, key: secret))
            guard HMACSHA256.constantTimeEquals(signature.lowercased(), expected) else {
                throw Refusal(
                    status: .unauthorized,
                    message:
                        "X-Hub-Signature-256 does not match the body: the webhook's secret differs from --webhook-secret"
                )
            }
        case .gitlab:
            guard let token = header("X-Gitlab-Token") else {
                throw Refusal(
                    status: .unauthorized,
                    message: "no X-Gitlab-Token: set the webhook's secret token on GitLab"
                )
            }
            guard HMACSHA256.constantTimeEquals(token, String(decoding: secret, as: UTF8.self)) else {
                throw Refusal(status: .unauthorized, message: "X-Gitlab-Token is not --webhook-secret")
            }
        }
        let delivery = header(source == .github ? "X-GitHub-Delivery" : "X-Gitlab-Event-UUID")
        if let delivery, !deliveries.first(delivery) {
            throw Refusal(status: .conflict, message: "delivery \(delivery) was taken already: a replay is refused")
        }
        let event = header(source == .github ? "X-GitHub-Event" : "X-Gitlab-Event") ?? ""
        switch (source, event) {
        case (.github, "ping"): return .ignored("ping: the webhook reaches the controller")
        case (.github, "push"), (.gitlab, "Push Hook"): break
        default: return .ignored("event '\(event)' is not a push")
        }
        struct Push: Decodable { var ref: String? }
        guard let push = try? JSONDecoder().decode(Push.self, from: Data(body)), let ref = push.ref else {
            throw Refusal(status: .badRequest, message: "a push event whose body has no \"ref\"")
        }
        guard ref.hasPrefix("refs/heads/") else { return .ignored("\(ref) is not a branch") }
        let pushed = String(ref.dropFirst("refs/heads/".count))
        if let branch, pushed != branch { return .ignored("a push to \(pushed); the controller follows \(branch)") }
        return .push(branch: pushed, delivery: delivery)
    }
}
