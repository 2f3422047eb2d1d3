import Foundation
import SetpointCore

/// PVE's value formats: property strings, sizes, booleans, tags.
enum PVEValues {
    /// `virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1` → ordered pairs; a bare part is returned with an empty key.
    static func pairs(_ text: String) -> [(key: String, value: String)] {
        text.split(separator: ",").map { part in
            // Empty sides are kept: "=", "=x" and "k=" are pairs too (a fuzzer found that "=" trapped here).
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            return kv.count == 2 ? (kv[0], kv[1]) : ("", kv[0])
        }
    }

    static func dict(_ text: String) -> [String: String] {
        Dictionary(pairs(text).map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
    }

    static func bool(_ text: String?) -> Bool? {
        guard let text else { return nil }
        switch text.lowercased() {
        case "1", "on", "yes", "true": return true
        case "0", "off", "no", "false": return false
        default: return nil
        }
    }

    static func flag(_ b: Bool) -> String { b ? "1" : "0" }

    /// `32G`, `512M`, `4T`, `1024K`, plain bytes.
    static func size(_ text: String) -> Int64? {
        var t = text
        var factor: Double = 1
        if let u = t.last,
            let f = ["K": 1024.0, "M": 1_048_576.0, "G": 1_073_741_824.0, "T": 1_099_511_627_776.0][
                String(u).uppercased()
            ]
        {
            factor = f
            t.removeLast()
        }
        // Int64(exactly:) and not Int64(_:): a size past 2⁶³ bytes, NaN or infinity is not a size (it trapped here).
        return Double(t).flatMap { Int64(exactly: ($0 * factor).rounded()) }
    }

    /// A size for PVE's `size` parameters: whole MiB (`+` omitted), e.g. `8192M`.
    static func sizeText(_ bytes: Int64) -> String {
        bytes % (1 << 30) == 0 ? "\(bytes >> 30)G" : "\(bytes >> 20)M"
    }

    /// GiB for `storage:SIZE` allocations (PVE takes fractions).
    static func gib(_ bytes: Int64) -> String {
        let g = Double(bytes) / 1_073_741_824
        return g == g.rounded() ? String(Int64(g)) : String(format: "%.3f", g)
    }

    /// `a;b` (PVE's normal form) → tags; Setpoint's own `setpoint` tag is not the user's.
    static func tags(_ text: String?) -> [String] {
        (text ?? "").split(whereSeparator: { $0 == ";" || $0 == "," || $0 == " " }).map(String.init).filter {
            $0 != ownershipTag
        }
    }

    /// The tag marking a guest as Setpoint's.
    static let ownershipTag = "setpoint"

    /// Tags as PVE stores them: lower-cased, de-duplicated, sorted, `;`-joined, with the ownership tag.
    static func tagText(_ tags: [String]) -> String {
        Array(Set(tags.map { $0.lowercased() } + [ownershipTag])).sorted().joined(separator: ";")
    }

    /// A list observed in PVE's order, given back in the manifest's order when it holds the same items (PVE sorts tags
    /// and hotplug features: the order means nothing, and must not show as a change).
    static func inDesiredOrder(_ observed: [String], desired: Value?) -> Value {
        if case .list(let d)? = desired {
            let wanted = d.compactMap(\.stringValue)
            if Set(wanted.map { $0.lowercased() }) == Set(observed.map { $0.lowercased() }),
                wanted.count == observed.count
            {
                return .list(wanted.map(Value.string))
            }
        }
        return .list(observed.map(Value.string))
    }

    /// `ssh-public-keys`/`sshkeys`: PVE keeps them URL-encoded.
    static func encodeKeys(_ keys: [String]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return keys.joined(separator: "\n").addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    static func decodeKeys(_ text: String) -> [String] {
        (text.removingPercentEncoding ?? text).split(separator: "\n").map(String.init).filter { !$0.isEmpty }
    }
}

extension FieldPath {
    /// The map keys of the path (`disks.scsi1.size` → `["disks", "scsi1", "size"]`).
    var keyNames: [String] { components.compactMap { c -> String? in if case .key(let k) = c { k } else { nil } } }
}

extension PVEValues {
    /// The keys every guest has in common: onboot, protection, description, and the tags with Setpoint's own.
    static func setLifecycle(
        _ c: inout [String: String],
        onBoot: Bool?,
        protection: Bool?,
        description: String?,
        tags: [String]?,
        current: [String: String]
    ) {
        if let v = onBoot { c["onboot"] = flag(v) }
        if let v = protection { c["protection"] = flag(v) }
        if let v = description { c["description"] = v }
        c["tags"] = tagText(tags ?? Self.tags(current["tags"]))
    }
}

extension Value {
    var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    var mapValue: [String: Value] { if case .map(let m) = self { return m } else { return [:] } }
    var listValue: [Value] { if case .list(let l) = self { return l } else { return [] } }
}
