import Foundation

/// PVE's config value conventions: sizes, disks, NICs, tags, and the JSON type each key is returned as.
public enum ConfigValues {
    static let qemuConfig = PVEAPISchema.shared.match(method: "PUT", path: "/nodes/n/qemu/100/config")!.0
    static let lxcConfig = PVEAPISchema.shared.match(method: "PUT", path: "/nodes/n/lxc/100/config")!.0

    static func configSchema(_ type: GuestType) -> APIMethod { type == .qemu ? qemuConfig : lxcConfig }

    /// Keys that are disks (qemu) or volumes (lxc): their values are `storage:volume,opts`.
    static func isDisk(_ key: String, _ type: GuestType) -> Bool {
        if type == .lxc { return key == "rootfs" || IndexedKey.split(key)?.0 == "mp" }
        if ["efidisk0", "tpmstate0"].contains(key) { return true }
        guard let (base, _) = IndexedKey.split(key) else { return false }
        return ["scsi", "virtio", "ide", "sata"].contains(base)
    }

    static func isNIC(_ key: String) -> Bool { IndexedKey.split(key)?.0 == "net" }

    /// `memory` (qemu: `[current=]MiB`, default 512; lxc: MiB, default 512).
    static func memoryMiB(_ guest: Guest) -> Int {
        guard let raw = guest.config["memory"] else { return 512 }
        let value =
            raw.split(separator: ",").first.map { $0.hasPrefix("current=") ? String($0.dropFirst(8)) : String($0) }
            ?? raw
        return Int(value) ?? 512
    }

    /// `32G`, `512M`, `+1G`, `10.5G`, plain bytes.
    static func parseSize(_ text: String) -> Int64? {
        var t = text
        var unit: Double = 1
        if let last = t.last,
            let u = ["K": 1024.0, "M": 1_048_576.0, "G": 1_073_741_824.0, "T": 1_099_511_627_776.0][
                String(last).uppercased()
            ]
        {
            unit = u
            t.removeLast()
        }
        guard let n = Double(t), n >= 0 else { return nil }
        return Int64(exactly: (n * unit).rounded())
    }

    /// pve-common `format_size`: the largest unit that divides the size exactly.
    static func formatSize(_ bytes: Int64) -> String {
        for (unit, factor) in [
            ("T", Int64(1) << 40), ("G", Int64(1) << 30), ("M", Int64(1) << 20), ("K", Int64(1) << 10),
        ]
        where bytes % factor == 0 && bytes >= factor {
            return "\(bytes / factor)\(unit)"
        }
        return String(bytes)
    }

    /// Splits `local-lvm:vm-100-disk-0,size=32G,ssd=1` into the volume and its options (in order).
    static func splitDisk(_ value: String) -> (volume: String, options: [(String, String)]) {
        var parts = value.split(separator: ",").map(String.init)
        var volume = ""
        if let i = parts.firstIndex(where: { !$0.contains("=") }) {
            volume = parts.remove(at: i)
        } else if let i = parts.firstIndex(where: { $0.hasPrefix("file=") || $0.hasPrefix("volume=") }) {
            volume = String(
                parts.remove(at: i).split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)[1]
            )
        }
        let options = parts.map { p -> (String, String) in
            let kv = p.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            return (kv[0], kv.count > 1 ? kv[1] : "")
        }
        return (volume, options)
    }

    static func joinDisk(_ volume: String, _ options: [(String, String)]) -> String {
        ([volume] + options.map { "\($0.0)=\($0.1)" }).joined(separator: ",")
    }

    /// The disk's `size=` in bytes.
    static func diskSize(_ value: String) -> Int64? {
        splitDisk(value).options.first { $0.0 == "size" }.flatMap { parseSize($0.1) }
    }

    /// PVE's tag normalisation: split on `;`, `,` and spaces, lower-case, de-duplicate, sort, join with `;`.
    static func normalizeTags(_ text: String) -> String {
        let tags = text.split(whereSeparator: { $0 == ";" || $0 == "," || $0 == " " }).map { $0.lowercased() }
        return Array(Set(tags)).sorted().joined(separator: ";")
    }

    /// A config value typed as PVE's JSON returns it: integers and booleans as numbers, the rest as strings
    /// (`memory` is a property string since PVE 8.1, so `"2048"`; `cpulimit`, typed number, is sent as PVE's Perl keeps it: `"4"`).
    static func typed(_ key: String, _ value: String, _ type: GuestType) -> JSONValue {
        if key == "digest" || key == "lock" { return .string(value) }
        let schema = configSchema(type).schema(for: key)
        switch schema?.type {
        case "integer", "boolean": return Int(value).map(JSONValue.int) ?? .string(value)
        default: return .string(value)  // `number` keys (cpulimit) come back as strings, as the fixtures show
        }
    }
}
