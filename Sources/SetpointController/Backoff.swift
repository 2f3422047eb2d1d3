import Foundation
public import SetpointCore

/// Per-resource retry state: transient failures back off exponentially with jitter up to a cap; terminal ones (bad
/// configuration, a missing privilege) park the resource until its manifest changes. One failing resource never holds
/// back the others.
public struct Backoff: Sendable {
    public struct Entry: Sendable, Equatable {
        public var failures: Int
        public var lastError: String
        /// When the next attempt may start; nil while parked.
        public var nextRetry: Date?
        /// The manifest digest of the resource when it was parked (a new digest unparks it).
        public var parkedDigest: String?
        /// The resource's manifest digest at the last failure: a new one makes it due at once.
        public var digest: String
    }

    public var base: TimeInterval
    public var cap: TimeInterval
    public private(set) var entries: [ResourceID: Entry] = [:]

    public init(base: TimeInterval = 5, cap: TimeInterval = 300) {
        self.base = base
        self.cap = cap
    }

    /// Whether the resource may be acted on now (not waiting out a backoff, not parked with the same manifest).
    /// A changed manifest for the resource ends its wait at once (the fix is worth trying now).
    public func isDue(_ id: ResourceID, now: Date, digest: String) -> Bool {
        guard let e = entries[id] else { return true }
        if e.digest != digest { return true }
        if e.parkedDigest != nil { return false }
        return (e.nextRetry ?? now) <= now
    }

    public mutating func succeeded(_ id: ResourceID) { entries[id] = nil }

    /// Records a failure: a transient one is retried after `base·2^(n-1)` (times `jitter`, 0.75 … 1.25: ±25 %; at most
    /// `cap`); a terminal one is parked.
    public mutating func failed(
        _ id: ResourceID,
        error: String,
        transient: Bool,
        now: Date,
        digest: String,
        jitter: Double = Double.random(in: 0.75...1.25)
    ) {
        var e = entries[id] ?? Entry(failures: 0, lastError: "", nextRetry: nil, parkedDigest: nil, digest: digest)
        if e.digest != digest { e.failures = 0 }
        e.failures += 1
        e.lastError = error
        e.digest = digest
        if transient {
            let delay = min(cap, base * pow(2, Double(e.failures - 1)))
            e.nextRetry = now.addingTimeInterval(delay * jitter)
            e.parkedDigest = nil
        } else {
            e.nextRetry = nil
            e.parkedDigest = digest
        }
        entries[id] = e
    }
}
