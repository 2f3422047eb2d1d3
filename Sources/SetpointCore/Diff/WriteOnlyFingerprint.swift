/// What the last applied spec keeps of a write-only value: a digest of the value as written in the manifest (for a
/// secret, of its reference) and, when it could be resolved, a salted digest of the value itself.
///
/// Text form: `fp:ref=sha256:<hex>` or `fp:ref=sha256:<hex>;value=sha256:<hex>`. Two fingerprints match on their
/// value digests when both have one — so a rotated secret behind an unchanged reference is a change — and on their
/// reference digests otherwise, so a plan without access to the secret (CI) does not report it as changed.
public struct WriteOnlyFingerprint: Sendable, Hashable {
    public var reference: String
    public var value: String?

    public init(reference: String, value: String?) {
        self.reference = reference
        self.value = value
    }

    public var text: String { "fp:ref=\(reference)" + (value.map { ";value=\($0)" } ?? "") }

    public init?(text: String) {
        guard text.hasPrefix("fp:ref=") else { return nil }
        let parts = text.dropFirst(3).split(separator: ";")
        var reference: String?
        var value: String?
        for part in parts {
            if part.hasPrefix("ref=") { reference = String(part.dropFirst(4)) }
            if part.hasPrefix("value=") { value = String(part.dropFirst(6)) }
        }
        guard let reference else { return nil }
        self.init(reference: reference, value: value)
    }

    public func matches(_ other: WriteOnlyFingerprint) -> Bool {
        if let a = value, let b = other.value { return a == b }
        return reference == other.reference
    }

    /// True for a value of the last applied spec that is a fingerprint (and so stood for a write-only value).
    public static func isFingerprint(_ value: Value?) -> Bool {
        if case .string(let s)? = value { return s.hasPrefix("fp:ref=") }
        return false
    }
}
