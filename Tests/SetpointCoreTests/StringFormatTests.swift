import SetpointCore
import Testing

/// Every format has a fast check (for the decoder) and a regular expression (for JSON Schema): they must agree.
@Suite struct StringFormatTests {
    static let samples = [
        "", "a", "api-1", "API-1", "-a", "a-", "a_b", "a.b", String(repeating: "a", count: 63), String(repeating: "a", count: 64),
        "https://pve1.example.net:8006", "http://127.0.0.1:9090/", "ftp://x", "https://", "https:// x",
        "/etc/pve", "etc/pve", "/", "setpoint@pve!ci", "root@pam!setpoint", "a@b!c!d", "@pve!x", "u@1x!t", "u@pve!",
        "pve1", "pve-node-1", "local-lvm", "local.zfs", "1local", "web+prod", "_tag", "tag.a",
        "setpoint/approval", "app.kubernetes.io/name", "Team", "x/", "/x", "shared_buffers", "auto_explain.log_min_duration", "a.b.c",
        "0 2 * * *", "*/15 * * * *", "@daily", "@every", "0 2 * *", "0 2 * * MON", "02:00", "sat 02:00", "mon..fri 22:00",
        "10.0.0.1", "db-1.internal", "::1", "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst", "local:iso/x.iso",
        "scsi0", "scsi30", "scsi31", "scsi01", "virtio15", "sata6", "ide3", "net0", "net31", "net32", "mp0", "mp255",
        "HighLatency", "job:rate5m", "9lives", "vmbr0", "averyveryverylongbridge", "BC:24:11:2A:00:01", "bc:24:11:2a:00:1",
        "dhcp", "10.0.0.5/24", "10.0.0.5/99", "beef", "1.2", "256.1.1.1", "fd00::1", "10.0.0.05", "fd00::5/129",
        "*/15 1-5 * 1,6 sun", "0 0 1 1 0", "fd00::5/64", "10.0.0.5", "auto", "sha256//" + String(repeating: "A", count: 43) + "=", "sha256//abc",
    ]

    static let formats: [StringFormat] = [
        .nonEmpty, .dnsLabel, .httpURL, .absolutePath, .pveTokenID, .pveNode, .pveStorage, .pveTag, .labelKey, .pgIdentifier,
        .pgParameter, .cron, .calendarEvent, .host, .pveTemplate, .promName, .promMetricName, .bridge, .macAddress, .ipConfig,
        .ipAddress, .pinnedKey, .slot([("scsi", 0...30), ("virtio", 0...15)], expectation: "a disk slot"),
        .slot([("net", 0...31)], expectation: "a NIC slot"), MetadataSchema.resourceIDFormat,
    ]

    @Test(arguments: formats.map { ($0.name, $0) })
    func checkAgreesWithPattern(_ name: String, _ format: StringFormat) throws {
        let pattern = try #require(format.pattern)
        let regex = try Regex(pattern)
        for sample in Self.samples + ["VirtualMachine/api-1", "Widget/api-1", "VirtualMachine/API"] {
            let byRegex = (try? regex.wholeMatch(in: sample)) != nil
            #expect(format.matches(sample) == byRegex, "\(name): '\(sample)' check says \(format.matches(sample)), pattern says \(byRegex)")
        }
    }

    @Test func dnsLabelExamples() {
        #expect(StringFormat.dnsLabel.matches("api-1"))
        #expect(!StringFormat.dnsLabel.matches("Api-1"))
        #expect(!StringFormat.dnsLabel.matches("api_1"))
        #expect(!StringFormat.dnsLabel.matches(String(repeating: "a", count: 64)))
    }
}
