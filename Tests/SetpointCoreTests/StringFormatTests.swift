import SetpointCore
import Testing

/// Every format has a fast check (for the decoder) and a regular expression (for JSON Schema): they must agree.
@Suite(.timeLimit(.minutes(2))) struct StringFormatTests {
    static let samples = [
        "", "a", "api-1", "API-1", "-a", "a-", "a_b", "a.b", String(repeating: "a", count: 63),
        String(repeating: "a", count: 64),
        "https://pve1.example.net:8006", "http://127.0.0.1:9090/", "ftp://x", "https://", "https:// x",
        "https://root:pw@pve1:8006",
        "https://u@h/x", "https://h/x@y", "http://h/?a=b@c",
        "/etc/pve", "etc/pve", "/", "setpoint@pve!ci", "root@pam!setpoint", "a@b!c!d", "@pve!x", "u@1x!t", "u@pve!",
        "pve1", "pve-node-1", "local-lvm", "local.zfs", "1local", "web+prod", "_tag", "tag.a",
        "setpoint/approval", "app.kubernetes.io/name", "Team", "x/", "/x", "shared_buffers",
        "auto_explain.log_min_duration", "a.b.c",
        "0 2 * * *", "*/15 * * * *", "@daily", "@every", "0 2 * *", "0 2 * * MON", "02:00", "sat 02:00",
        "mon..fri 22:00",
        "10.0.0.1", "db-1.internal", "::1", "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst", "local:iso/x.iso",
        "scsi0", "scsi30", "scsi31", "scsi01", "virtio15", "sata6", "ide3", "net0", "net31", "net32", "mp0", "mp255",
        "HighLatency", "job:rate5m", "9lives", "vmbr0", "averyveryverylongbridge", "BC:24:11:2A:00:01",
        "bc:24:11:2a:00:1",
        "dhcp", "10.0.0.5/24", "10.0.0.5/99", "beef", "1.2", "256.1.1.1", "fd00::1", "10.0.0.05", "fd00::5/129",
        "*/15 1-5 * 1,6 sun", "0 0 1 1 0", "fd00::5/64", "10.0.0.5", "auto",
        "sha256//" + String(repeating: "A", count: 43) + "=", "sha256//abc",
    ]

    static let formats: [StringFormat] = [
        .nonEmpty, .dnsLabel, .httpURL, .absolutePath, .pveTokenID, .pveNode, .pveStorage, .pveTag, .labelKey,
        .pgIdentifier,
        .pgParameter, .cron, .calendarEvent, .host, .pveTemplate, .promName, .promMetricName, .bridge, .macAddress,
        .ipConfig,
        .ipAddress, .pinnedKey, .slot([("scsi", 0...30), ("virtio", 0...15)], expectation: "a disk slot"),
        .slot([("net", 0...31)], expectation: "a NIC slot"), MetadataSchema.resourceIDFormat,
    ]

    @Test(arguments: formats.map { ($0.name, $0) })
    func checkAgreesWithPattern(_ name: String, _ format: StringFormat) throws {
        let pattern = try #require(format.pattern)
        let regex = try Regex(pattern)
        for sample in Self.samples + ["VirtualMachine/api-1", "Widget/api-1", "VirtualMachine/API"] {
            let byRegex = (try? regex.wholeMatch(in: sample)) != nil
            #expect(
                format.matches(sample) == byRegex,
                "\(name): '\(sample)' check says \(format.matches(sample)), pattern says \(byRegex)"
            )
        }
    }

    @Test func urlsWithUserInformationAreRefusedAndRecognised() {
        #expect(!StringFormat.httpURL.matches("https://root:hunter2@pve1.example.net:8006"))
        #expect(
            StringFormat.httpURL.matches("https://pve1.example.net:8006/path@with-at"),
            "an @ in the path is no credential"
        )
        #expect(StringFormat.hasUserInfo("https://root:hunter2@pve1.example.net:8006"))
        #expect(StringFormat.hasUserInfo("postgres://u:p@db/x"))
        #expect(!StringFormat.hasUserInfo("https://h/x@y") && !StringFormat.hasUserInfo("no url@all"))
    }

    @Test func dnsLabelExamples() {
        #expect(StringFormat.dnsLabel.matches("api-1"))
        #expect(!StringFormat.dnsLabel.matches("Api-1"))
        #expect(!StringFormat.dnsLabel.matches("api_1"))
        #expect(!StringFormat.dnsLabel.matches(String(repeating: "a", count: 64)))
    }
}

@Suite(.timeLimit(.minutes(1))) struct EditDistanceTests {
    /// The plain Levenshtein distance, to check the bounded one against.
    static func reference(_ a: String, _ b: String) -> Int {
        let a = Array(a.utf8)
        let b = Array(b.utf8)
        var d = Array(0...b.count)
        for i in 1...max(1, a.count) where !a.isEmpty {
            var previous = d[0]
            d[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                let old = d[j]
                d[j] = min(d[j] + 1, d[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = old
            }
        }
        return a.isEmpty ? b.count : d[b.count]
    }

    @Test func boundedDistanceAgreesWithTheReferenceWithinItsLimit() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcde")
        for _ in 0..<2_000 {
            let a = String(
                (0..<Int.random(in: 0...9, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
            )
            let b = String(
                (0..<Int.random(in: 0...9, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
            )
            let limit = Int.random(in: 0...6, using: &generator)
            let exact = Self.reference(a, b)
            #expect(editDistance(a, b, atMost: limit) == (exact <= limit ? exact : nil), "\(a) \(b) limit \(limit)")
        }
    }

    @Test func nearestPicksTheFirstClosestWithinTheLimit() {
        #expect(nearest(to: "VirtualMachin", in: ["Container", "VirtualMachine"], within: 3) == "VirtualMachine")
        #expect(
            nearest(to: "virtualmachine", in: ["Container", "VirtualMachine"], within: 0, ignoringCase: true)
                == "VirtualMachine"
        )
        #expect(nearest(to: "ab", in: ["ax", "ay"], within: 1) == "ax")
        #expect(nearest(to: "zzzzzz", in: ["Container"], within: 3) == nil)
        // A 15 MB name is answered from the lengths alone (it took 9.6 s).
        #expect(nearest(to: String(repeating: "V", count: 15 << 20), in: ["VirtualMachine"], within: 3) == nil)
    }
}
