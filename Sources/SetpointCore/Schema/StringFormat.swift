import FoundationEssentials

/// A constraint on a string: a fast check for the decoder and the equivalent regular expression for JSON Schema.
public struct StringFormat: Sendable {
    /// Short name, used in JSON Schema `$comment`s and tests.
    public let name: String
    /// ECMA-262 pattern for JSON Schema, anchored; nil means any string.
    public let pattern: String?
    /// What a valid value looks like, for error messages: "a DNS label (lower-case letters, digits, '-')".
    public let expectation: String
    private let check: @Sendable (Substring.UTF8View) -> Bool

    public init(
        name: String,
        pattern: String?,
        expectation: String,
        check: @escaping @Sendable (Substring.UTF8View) -> Bool
    ) {
        self.name = name
        self.pattern = pattern
        self.expectation = expectation
        self.check = check
    }

    public func matches(_ text: String) -> Bool { check(text[...].utf8) }

    /// Any string, including the empty one.
    public static let any = StringFormat(name: "any", pattern: nil, expectation: "a string") { _ in true }

    /// Any non-empty string.
    public static let nonEmpty = StringFormat(
        name: "nonEmpty",
        pattern: "^[\\s\\S]+$",
        expectation: "a non-empty string"
    ) {
        !$0.isEmpty
    }

    /// RFC 1123 label, as Kubernetes names: 1–63 of `[a-z0-9-]`, starting and ending alphanumeric.
    public static let dnsLabel = StringFormat(
        name: "dnsLabel",
        pattern: "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$",
        expectation: "a DNS label: 1–63 lower-case letters, digits or '-', starting and ending with a letter or digit"
    ) { u in
        guard let first = u.first, let last = u.last, u.count <= 63 else { return false }
        return isLowerAlnum(first) && isLowerAlnum(last) && u.allSatisfy { isLowerAlnum($0) || $0 == 45 }
    }

    /// An `http://` or `https://` URL with a host.
    ///
    /// No user information (`user:password@host`): credentials are secret references, and a URL is printed in messages.
    public static let httpURL = StringFormat(
        name: "httpURL",
        pattern: "^https?://[^\\s/@]+(/\\S*)?$",
        expectation: "an http:// or https:// URL"
    ) { u in
        let s = String(Substring(u))
        let rest: Substring
        if s.hasPrefix("https://") {
            rest = s.dropFirst(8)
        } else if s.hasPrefix("http://") {
            rest = s.dropFirst(7)
        } else {
            return false
        }
        guard let host = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).first, !host.isEmpty
        else { return false }
        return !s.contains(where: \.isWhitespace) && !host.contains("@")
    }

    /// True when a URL carries user information (`scheme://user:password@host`): it is refused, and never printed.
    public static func hasUserInfo(_ url: String) -> Bool {
        guard let scheme = url.firstRange(of: "://") else { return false }
        let rest = url[scheme.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        return authority.contains("@")
    }

    /// An absolute file system path.
    public static let absolutePath = StringFormat(
        name: "absolutePath",
        pattern: "^/[^\\x00]*$",
        expectation: "an absolute path starting with '/'"
    ) { u in u.first == 47 && !u.contains(0) }

    /// A Proxmox API token id: `USER@REALM!TOKENID`.
    public static let pveTokenID = StringFormat(
        name: "pveTokenID",
        pattern: "^[^\\s@!:]+@[A-Za-z][A-Za-z0-9.\\-_]*![A-Za-z][A-Za-z0-9.\\-_]*$",
        expectation: "a Proxmox API token id like 'setpoint@pve!ci' (USER@REALM!TOKENID)"
    ) { u in
        let s = String(Substring(u))
        guard let at = s.firstIndex(of: "@"), let bang = s.lastIndex(of: "!"), at < bang else { return false }
        let user = s[..<at]
        let realm = s[s.index(after: at)..<bang]
        let token = s[s.index(after: bang)...]
        func ident(_ t: Substring) -> Bool {
            guard let f = t.first, f.isASCII, f.isLetter else { return false }
            return t.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || ".-_".contains($0)) }
        }
        return !user.isEmpty && !user.contains { $0.isWhitespace || "@!:".contains($0) } && ident(realm) && ident(token)
    }

    /// A Proxmox node name (a hostname label, upper case allowed).
    public static let pveNode = StringFormat(
        name: "pveNode",
        pattern: "^[a-zA-Z0-9]([a-zA-Z0-9\\-]{0,61}[a-zA-Z0-9])?$",
        expectation: "a Proxmox node name: letters, digits and '-'"
    ) { u in
        guard let first = u.first, let last = u.last, u.count <= 63 else { return false }
        return isAlnum(first) && isAlnum(last) && u.allSatisfy { isAlnum($0) || $0 == 45 }
    }

    /// A Proxmox storage id.
    public static let pveStorage = StringFormat(
        name: "pveStorage",
        pattern: "^[a-zA-Z][a-zA-Z0-9\\-_.]*$",
        expectation: "a Proxmox storage id: a letter, then letters, digits, '-', '_' or '.'"
    ) { u in
        guard let first = u.first, isAlpha(first) else { return false }
        return u.allSatisfy { isAlnum($0) || $0 == 45 || $0 == 95 || $0 == 46 }
    }

    /// A Proxmox tag: letters, digits and `- _ . +`, not starting with `-`, `_` or `.`.
    public static let pveTag = StringFormat(
        name: "pveTag",
        pattern: "^[a-zA-Z0-9+][a-zA-Z0-9\\-_.+]*$",
        expectation: "a Proxmox tag: letters, digits, '-', '_', '.', '+', not starting with '-', '_' or '.'"
    ) { u in
        guard let first = u.first, isAlnum(first) || first == 43 else { return false }
        return u.allSatisfy { isAlnum($0) || $0 == 45 || $0 == 95 || $0 == 46 || $0 == 43 }
    }

    /// A label or annotation key: an optional DNS prefix and `/`, then a name of `[A-Za-z0-9-_.]`.
    public static let labelKey = StringFormat(
        name: "labelKey",
        pattern: "^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$",
        expectation: "a label key: an optional 'prefix/' then letters, digits, '-', '_' or '.'"
    ) { u in
        let parts = u.split(separator: 47, maxSplits: 1, omittingEmptySubsequences: false)
        func name(_ n: Substring.UTF8View.SubSequence) -> Bool {
            guard let f = n.first, let l = n.last, n.count <= 63 else { return false }
            return isAlnum(f) && isAlnum(l) && n.allSatisfy { isAlnum($0) || $0 == 45 || $0 == 95 || $0 == 46 }
        }
        if parts.count == 2 {
            let p = parts[0]
            guard let f = p.first, let l = p.last, p.count <= 253, isLowerAlnum(f), isLowerAlnum(l),
                p.allSatisfy({ isLowerAlnum($0) || $0 == 45 || $0 == 46 })
            else { return false }
            return name(parts[1])
        }
        return name(parts[0])
    }

    /// A PostgreSQL identifier as Setpoint accepts it for roles, databases and slots: lower-case, ≤ 63 bytes.
    public static let pgIdentifier = StringFormat(
        name: "pgIdentifier",
        pattern: "^[a-z_][a-z0-9_]{0,62}$",
        expectation:
            "a PostgreSQL identifier: lower-case letters, digits and '_', not starting with a digit, at most 63"
    ) { u in
        guard let f = u.first, u.count <= 63, isLowerAlpha(f) || f == 95 else { return false }
        return u.allSatisfy { isLowerAlnum($0) || $0 == 95 }
    }

    /// A PostgreSQL server parameter name (`shared_buffers`, `auto_explain.log_min_duration`).
    public static let pgParameter = StringFormat(
        name: "pgParameter",
        pattern: "^[a-z_][a-z0-9_]*(\\.[a-z_][a-z0-9_]*)?$",
        expectation: "a PostgreSQL parameter name such as 'shared_buffers'"
    ) { u in
        let parts = u.split(separator: 46, maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count <= 2 else { return false }
        return parts.allSatisfy { p in
            guard let f = p.first, isLowerAlpha(f) || f == 95 else { return false }
            return p.allSatisfy { isLowerAlnum($0) || $0 == 95 }
        }
    }

    /// A cron schedule of five fields (`0 2 * * *`), or a shortcut such as `@daily`.
    public static let cron = StringFormat(
        name: "cron",
        pattern: "^(@(yearly|annually|monthly|weekly|daily|hourly)|([0-9*,/\\-]+ ){4}[0-9*,/\\-A-Za-z]+)$",
        expectation: "a cron schedule of five fields like '0 2 * * *', or @daily/@hourly/@weekly/@monthly/@yearly"
    ) { u in
        let s = String(Substring(u))
        if s.hasPrefix("@") { return ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@hourly"].contains(s) }
        let fields = s.split(separator: " ", omittingEmptySubsequences: false)
        guard fields.count == 5, fields.allSatisfy({ !$0.isEmpty }) else { return false }
        // minute, hour, day of month, month, day of week (0 and 7 are Sunday); names allowed in the last field.
        let ranges: [ClosedRange<Int>] = [0...59, 0...23, 1...31, 1...12, 0...7]
        for (i, f) in fields.enumerated() {
            let ok = f.allSatisfy { $0.isASCII && ($0.isNumber || "*,/-".contains($0) || (i == 4 && $0.isLetter)) }
            if !ok { return false }
            // Every number outside a step ("/15") must be in the field's range.
            for item in f.split(separator: ",") {
                // "/5" and "/" have an empty range part (a fuzzer found "/" trapped here); it has no number to check.
                let parts = item.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
                for bound in parts[0].split(separator: "-") where bound.allSatisfy(\.isNumber) {
                    guard let n = Int(bound), ranges[i].contains(n) else { return false }
                }
            }
        }
        return true
    }

    /// A Proxmox (systemd-like) calendar event: `daily`, `sat 02:00`, `*-*-* 01:30`, `mon..fri 22:00`.
    public static let calendarEvent = StringFormat(
        name: "calendarEvent",
        pattern: "^[A-Za-z0-9 *:,./\\-~]+$",
        expectation: "a Proxmox calendar event like '02:00', 'sat 02:00' or 'mon..fri 22:00'"
    ) { u in
        !u.isEmpty && u.allSatisfy { isAlnum($0) || " *:,./-~".utf8.contains($0) }
    }

    /// A host name or IP address (no scheme, no port).
    public static let host = StringFormat(
        name: "host",
        pattern: "^[A-Za-z0-9]([A-Za-z0-9\\-.:]*[A-Za-z0-9])?$",
        expectation: "a host name or IP address"
    ) { u in
        guard let f = u.first, let l = u.last, isAlnum(f), isAlnum(l) else { return false }
        return u.allSatisfy { isAlnum($0) || $0 == 45 || $0 == 46 || $0 == 58 }
    }

    /// A Proxmox OS template volume: `storage:vztmpl/file.tar.zst`.
    public static let pveTemplate = StringFormat(
        name: "pveTemplate",
        pattern: "^[a-zA-Z][a-zA-Z0-9\\-_.]*:vztmpl/[^\\s/]+$",
        expectation: "a template volume like 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst'"
    ) { u in
        guard u.allSatisfy({ $0 < 0x80 }) else {
            // Non-ASCII: Unicode whitespace rules, on characters.
            let s = String(Substring(u))
            guard let colon = s.firstIndex(of: ":") else { return false }
            let storage = s[..<colon]
            let rest = s[s.index(after: colon)...]
            return StringFormat.pveStorage.matches(String(storage)) && rest.hasPrefix("vztmpl/")
                && rest.count > 7 && !rest.dropFirst(7).contains { $0 == "/" || $0.isWhitespace }
        }
        guard let colon = u.firstIndex(of: 58) else { return false }
        let storage = u[..<colon]
        guard let first = storage.first, isAlpha(first),
            storage.allSatisfy({ isAlnum($0) || $0 == 45 || $0 == 95 || $0 == 46 })
        else { return false }
        let rest = u[u.index(after: colon)...]
        guard rest.starts(with: "vztmpl/".utf8) else { return false }
        let volume = rest.dropFirst(7)
        return !volume.isEmpty && !volume.contains { $0 == 47 || $0 == 32 || ($0 >= 9 && $0 <= 13) }
    }

    /// A map key made of a prefix and a number in a range: `scsi0`…`scsi30`, `net0`…`net31`.
    public static func slot(_ prefixes: [(String, ClosedRange<Int>)], expectation: String) -> StringFormat {
        let alternatives = prefixes.map { "\($0.0)(\(numberPattern($0.1)))" }.joined(separator: "|")
        let bytePrefixes = prefixes.map { (Array($0.0.utf8), $0.1) }
        return StringFormat(name: "slot", pattern: "^(\(alternatives))$", expectation: expectation) { u in
            for (prefix, range) in bytePrefixes where u.starts(with: prefix) {
                let digits = u.dropFirst(prefix.count)
                // 1–3 ASCII digits, no leading zero
                guard let first = digits.first, digits.count <= 3, digits.allSatisfy(isDigit),
                    first != 48 || digits.count == 1
                else { continue }
                var n = 0
                for d in digits { n = n * 10 + Int(d - 48) }
                if range.contains(n) { return true }
            }
            return false
        }
    }

    /// A regex alternative matching exactly the decimal numbers in a range (no leading zeros).
    static func numberPattern(_ range: ClosedRange<Int>) -> String {
        range.map(String.init).joined(separator: "|")
    }
}

@inline(__always) func isLowerAlpha(_ c: UInt8) -> Bool { c >= 97 && c <= 122 }
@inline(__always) func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
@inline(__always) func isLowerAlnum(_ c: UInt8) -> Bool { isLowerAlpha(c) || isDigit(c) }
@inline(__always) func isAlpha(_ c: UInt8) -> Bool { isLowerAlpha(c) || (c >= 65 && c <= 90) }
@inline(__always) func isAlnum(_ c: UInt8) -> Bool { isAlpha(c) || isDigit(c) }

extension StringFormat {
    /// A Prometheus alert or label name.
    public static let promName = StringFormat(
        name: "promName",
        pattern: "^[a-zA-Z_][a-zA-Z0-9_]*$",
        expectation: "a Prometheus name: letters, digits and '_', not starting with a digit"
    ) { u in
        guard let f = u.first, isAlpha(f) || f == 95 else { return false }
        return u.allSatisfy { isAlnum($0) || $0 == 95 }
    }

    /// A Prometheus metric name for recording rules (colons allowed).
    public static let promMetricName = StringFormat(
        name: "promMetricName",
        pattern: "^[a-zA-Z_:][a-zA-Z0-9_:]*$",
        expectation: "a Prometheus metric name: letters, digits, '_' and ':', not starting with a digit"
    ) { u in
        guard let f = u.first, isAlpha(f) || f == 95 || f == 58 else { return false }
        return u.allSatisfy { isAlnum($0) || $0 == 95 || $0 == 58 }
    }

    /// A Linux bridge name such as `vmbr0`.
    public static let bridge = StringFormat(
        name: "bridge",
        pattern: "^[a-zA-Z][a-zA-Z0-9_.\\-]{0,14}$",
        expectation: "a bridge name like 'vmbr0' (at most 15 characters)"
    ) { u in
        guard let f = u.first, isAlpha(f), u.count <= 15 else { return false }
        return u.allSatisfy { isAlnum($0) || $0 == 95 || $0 == 46 || $0 == 45 }
    }

    /// A MAC address `BC:24:11:00:00:01`.
    public static let macAddress = StringFormat(
        name: "macAddress",
        pattern: "^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$",
        expectation: "a MAC address like 'BC:24:11:2A:00:01'"
    ) { u in
        let a = Array(u)
        guard a.count == 17 else { return false }
        for (i, c) in a.enumerated() {
            if i % 3 == 2 {
                if c != 58 { return false }
            } else if !(isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102)) {
                return false
            }
        }
        return true
    }

    static let ipv4Pattern =
        "((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
    static let ipv6Pattern = "[0-9A-Fa-f]{0,4}(:[0-9A-Fa-f]{0,4}){2,7}"

    /// An IP configuration for a guest NIC: `dhcp`, `auto`, `manual`, or an address with prefix length.
    public static let ipConfig = StringFormat(
        name: "ipConfig",
        pattern:
            "^(dhcp|auto|manual|\(ipv4Pattern)/([0-9]|[12][0-9]|3[0-2])|\(ipv6Pattern)/([0-9]|[1-9][0-9]|1[01][0-9]|12[0-8]))$",
        expectation: "'dhcp', 'manual' or an address with prefix length like '10.0.0.5/24' or 'fd00::5/64'"
    ) { u in
        if u.elementsEqual("dhcp".utf8) || u.elementsEqual("auto".utf8) || u.elementsEqual("manual".utf8) {
            return true
        }
        guard let slash = u.firstIndex(of: 47) else { return false }
        let address = u[..<slash]
        let length = u[u.index(after: slash)...]
        // 1–3 ASCII digits without a leading zero (and so no second '/')
        guard let first = length.first, length.count <= 3, length.allSatisfy(isDigit), first != 48 || length.count == 1
        else { return false }
        var n = 0
        for d in length { n = n * 10 + Int(d - 48) }
        if isIPv4(bytes: address) { return n <= 32 }
        return isIPv6(bytes: address) && n <= 128
    }

    /// An IPv4 or IPv6 address without prefix length.
    public static let ipAddress = StringFormat(
        name: "ipAddress",
        pattern: "^(\(ipv4Pattern)|\(ipv6Pattern))$",
        expectation: "an IP address like '10.0.0.1' or 'fd00::1'"
    ) { u in isIPv4(bytes: u) || isIPv6(bytes: u) }

    /// Dotted quad, each part 0–255 without leading zeros (over UTF-8 bytes: no allocation).
    static func isIPv4<C: Collection<UInt8>>(bytes u: C) -> Bool {
        var dots = 0
        var digits = 0
        var value = 0
        for c in u {
            if c == 46 {
                guard digits > 0, dots < 3 else { return false }
                dots += 1
                digits = 0
                value = 0
                continue
            }
            guard isDigit(c), digits < 3, !(digits == 1 && value == 0) else { return false }
            value = value * 10 + Int(c - 48)
            guard value <= 255 else { return false }
            digits += 1
        }
        return dots == 3 && digits > 0
    }

    /// Colon-separated groups of up to four hex digits, 3–8 groups (over UTF-8 bytes: no allocation).
    static func isIPv6<C: Collection<UInt8>>(bytes u: C) -> Bool {
        var groups = 1
        var length = 0
        for c in u {
            if c == 58 {
                groups += 1
                length = 0
                if groups > 8 { return false }
                continue
            }
            guard length < 4, isDigit(c) || ((c | 0x20) >= 97 && (c | 0x20) <= 102) else { return false }
            length += 1
        }
        return groups >= 3
    }

    /// Dotted quad, each part 0–255 without leading zeros.
    static func isIPv4(_ s: Substring) -> Bool {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4
            && parts.allSatisfy { p in
                guard (1...3).contains(p.count), p.allSatisfy(\.isNumber), let n = Int(p), n <= 255 else {
                    return false
                }
                return String(n) == p
            }
    }

    /// Colon-separated groups of up to four hex digits, 3–8 groups (a loose check: `::` compression allowed).
    static func isIPv6(_ s: Substring) -> Bool {
        let groups = s.split(separator: ":", omittingEmptySubsequences: false)
        return (3...8).contains(groups.count)
            && groups.allSatisfy { $0.count <= 4 && $0.allSatisfy { $0.isASCII && $0.isHexDigit } }
    }

    /// The key types an OpenSSH host key line may name.
    static let sshKeyTypes: Set<String> = [
        "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
    ]

    /// An SSH host key as a known_hosts line gives it: `TYPE BASE64 [comment]`, or a CA that signs host keys
    /// `@cert-authority TYPE BASE64 [comment]`. The key's own type, inside its encoding, must be the one named.
    public static let sshHostKey = StringFormat(
        name: "sshHostKey",
        pattern:
            "^(@cert-authority )?(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\\.com|sk-ecdsa-sha2-nistp256@openssh\\.com) [A-Za-z0-9+/]+={0,2}( .*)?$",
        expectation:
            "a public key as in known_hosts: 'ssh-ed25519 AAAA…' (the host's /etc/ssh/ssh_host_ed25519_key.pub), or '@cert-authority ssh-ed25519 AAAA…'"
    ) { u in
        var words = String(Substring(u)).split(separator: " ", omittingEmptySubsequences: false)
        if words.first == "@cert-authority" { words.removeFirst() }
        guard words.count >= 2, sshKeyTypes.contains(String(words[0])),
            let blob = Data(base64Encoded: String(words[1])),
            blob.count > 4
        else { return false }
        // The encoding starts with the type's own name: a length (4 bytes, big-endian), then the name.
        let length = blob.prefix(4).reduce(0) { $0 << 8 | Int($1) }
        guard length > 0, blob.count >= 4 + length else { return false }
        return String(decoding: blob.dropFirst(4).prefix(length), as: UTF8.self) == words[0]
    }

    /// A pinned public key for TLS: `sha256//BASE64`.
    public static let pinnedKey = StringFormat(
        name: "pinnedKey",
        pattern: "^sha256//[A-Za-z0-9+/]{43}=$",
        expectation: "a pinned public key 'sha256//' followed by the base64 SHA-256 of the key (44 characters)"
    ) { u in
        let s = String(Substring(u))
        guard s.hasPrefix("sha256//") else { return false }
        let b = s.dropFirst(8)
        return b.count == 44 && b.last == "="
            && b.dropLast().allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "+" || $0 == "/") }
    }
}
