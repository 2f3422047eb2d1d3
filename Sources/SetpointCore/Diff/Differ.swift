/// The three-way diff of one resource's spec: desired (manifest), last applied (state), observed (provider).
///
/// - A field absent from the manifest is unmanaged — unless it was last applied, in which case removing it from
///   the manifest removes it from the system (`after == nil`).
/// - Computed fields absent from the manifest never differ; write-only fields (and every secret) are compared by
///   the fingerprint kept in the last applied spec; ignored fields and user `ignore` paths are skipped.
/// - A change whose desired value equals what was last applied is `drift` (the system moved); otherwise `manifest`.
/// - Maps are compared key by key; lists and scalars as wholes.
///
/// Pure: the caller supplies `fingerprint`, which for secrets resolves and hashes the value.
public struct Differ: Sendable {
    public var policy: FieldPolicy
    /// Paths (dotted, under spec) the user asked to ignore, e.g. `["tags", "disks.*.cache"]`.
    public var ignore: [[String]]
    /// The fingerprint stored in the last applied spec for a write-only value.
    public var fingerprint: @Sendable (FieldPath, Value) -> String

    public init(
        policy: FieldPolicy,
        ignore: [String] = [],
        fingerprint: @escaping @Sendable (FieldPath, Value) -> String = Differ.referenceFingerprint
    ) {
        self.policy = policy
        self.ignore = ignore.map { $0.split(separator: ".").map(String.init) }
        self.fingerprint = fingerprint
    }

    /// The default fingerprint: a digest of the value as written (for secrets: of the reference, not the secret).
    public static let referenceFingerprint: @Sendable (FieldPath, Value) -> String = { _, value in
        WriteOnlyFingerprint(reference: CanonicalJSON.digest(value), value: nil).text
    }

    /// Whether a stored fingerprint still stands for `value`.
    func fingerprintMatches(_ stored: Value?, _ path: FieldPath, _ value: Value) -> Bool {
        guard case .string(let text)? = stored, let old = WriteOnlyFingerprint(text: text),
            let new = WriteOnlyFingerprint(text: fingerprint(path, value))
        else { return false }
        return old.matches(new)
    }

    /// Field changes that would make `observed` match `desired`.
    /// - Parameter pending: values the system has staged for its next restart, in the spec's shape: a desired value
    ///   equal to its pending value is not a change (it waits for the restart).
    public func diff(desired: Value, lastApplied: Value?, observed: Value, pending: Value? = nil) -> [FieldChange] {
        var out: [FieldChange] = []
        var path = FieldPath()
        walk(desired, lastApplied, observed, pending, path: &path, observedRoot: observed, into: &out)
        // Keys are visited in dictionary order; report in path order.
        if out.count > 1 { out.sort { $0.path.description < $1.path.description } }
        return out
    }

    /// The spec to store as last applied: the desired spec with write-only values replaced by their fingerprints,
    /// so that state never holds a secret.
    public func appliedForm(of desired: Value) -> Value { applied(desired, path: FieldPath()) }

    private func applied(_ value: Value, path: FieldPath) -> Value {
        if case .secret = value { return .string(fingerprint(path, value)) }
        // Compared as a whole.
        if case .list = value, containsSecret(value) { return .string(fingerprint(path, value)) }
        if policy.rule(for: path)?.comparison == .writeOnly, !path.components.isEmpty {
            return .string(fingerprint(path, value))
        }
        guard case .map(let m) = value else { return value }
        var out: [String: Value] = [:]
        for (k, v) in m { out[k] = applied(v, path: path.appending(k)) }
        return .map(out)
    }

    private func walk(
        _ desired: Value,
        _ lastApplied: Value?,
        _ observed: Value?,
        _ pending: Value?,
        path: inout FieldPath,
        observedRoot: Value,
        into out: inout [FieldChange]
    ) {
        guard case .map(let d) = desired else { return }
        let l: [String: Value] = { if case .map(let m)? = lastApplied { return m } else { return [:] } }()
        let o: [String: Value] = { if case .map(let m)? = observed { return m } else { return [:] } }()
        let p: [String: Value] = { if case .map(let m)? = pending { return m } else { return [:] } }()
        func visit(_ key: String, _ dv: Value?) {
            path.components.append(.key(key))
            defer { path.components.removeLast() }
            if !ignore.isEmpty, isIgnored(path) { return }
            let rule = policy.rules.isEmpty ? nil : policy.rule(for: path)
            let comparison = rule?.comparison ?? .normal
            if comparison == .ignore { return }
            let lv = l[key]
            let ov = o[key]
            guard let dv else {
                // Removed from the manifest: remove it from the system, if it was ours and is still there. A value
                // that was applied as a fingerprint was a secret: what the system shows of it is never repeated.
                if lv != nil, ov != nil, comparison != .computed, comparison != .writeOnly {
                    let secret = WriteOnlyFingerprint.isFingerprint(lv)
                    out.append(
                        change(
                            path,
                            before: secret ? nil : ov,
                            after: nil,
                            sensitive: secret,
                            origin: .manifest,
                            observedRoot: observedRoot
                        )
                    )
                }
                return
            }
            let isSecretValue: Bool = {
                switch dv {
                case .secret: true
                case .list: containsSecret(dv)  // lists compare whole, so a list holding a secret is write-only
                default: false
                }
            }()
            if comparison == .writeOnly || isSecretValue {
                // A provider that shows the desired secret references where the system masks them (Alertmanager's
                // receivers) gets the rest of such a list compared too.
                let visibleDrift: Bool = {
                    guard case .list = dv, let ov, containsSecret(ov) else { return false }
                    return ov != dv
                }()
                if !fingerprintMatches(lv, path, dv) || visibleDrift {
                    out.append(
                        change(
                            path,
                            before: nil,
                            after: dv,
                            sensitive: true,
                            origin: .manifest,
                            observedRoot: observedRoot
                        )
                    )
                }
                return
            }
            if case .map = dv, case .map? = ov {
                walk(dv, lv, ov, p[key], path: &path, observedRoot: observedRoot, into: &out)
                return
            }
            if dv == ov { return }
            if let pv = p[key], dv == pv { return }
            out.append(
                change(
                    path,
                    before: ov,
                    after: dv,
                    sensitive: containsSecret(dv),
                    origin: lv == applied(dv, path: path) ? .drift : .manifest,
                    observedRoot: observedRoot
                )
            )
        }
        for (key, dv) in d { visit(key, dv) }
        for key in l.keys where d[key] == nil { visit(key, nil) }
        // Fields the manifest leaves out but means something by (their rule's `absent`): compared with that.
        for key in o.keys where d[key] == nil && l[key] == nil {
            if let meant = policy.absentValue(at: path.appending(key)) { visit(key, meant) }
        }
    }

    private func change(
        _ path: FieldPath,
        before: Value?,
        after: Value?,
        sensitive: Bool = false,
        origin: ChangeOrigin,
        observedRoot: Value
    ) -> FieldChange {
        // A sensitive change never carries what the system showed: it could be the secret.
        let before = sensitive ? nil : before
        let rule = policy.rule(for: path)
        var impact = rule?.impact ?? policy.defaultImpact
        var reason = rule?.reason
        if let dynamic = policy.dynamicImpact, let (i, r) = dynamic(path, observedRoot, after) {
            impact = i
            reason = r
        }
        return FieldChange(
            path: path,
            before: before,
            after: after,
            isSensitive: sensitive,
            origin: origin,
            impact: impact,
            reason: reason
        )
    }

    private func isIgnored(_ path: FieldPath) -> Bool {
        let keys = path.components.compactMap { c -> String? in if case .key(let k) = c { return k } else { return nil }
        }
        return ignore.contains { pattern in
            pattern.count <= keys.count && zip(pattern, keys).allSatisfy { $0 == "*" || $0 == $1 }
        }
    }

    private func containsSecret(_ value: Value) -> Bool {
        switch value {
        case .secret: true
        case .map(let m): m.values.contains(where: containsSecret)
        case .list(let l): l.contains(where: containsSecret)
        default: false
        }
    }
}
