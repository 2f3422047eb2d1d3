import SetpointCore
import SetpointTesting
import Testing

@Suite(.timeLimit(.minutes(2))) struct DifferTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let reason: String
        let desired: Value
        let lastApplied: Value?
        let observed: Value
        var pending: Value? = nil
        var ignore: [String] = []
        /// Expected changes as "path before→after origin impact".
        let expected: [String]
        var testDescription: String { reason }
    }

    static let policy: FieldPolicy = {
        var p = FieldPolicy()
        p.rule("memory", impact: .restart, reason: "applied at the next restart")
        p.rule("disks.*", impact: .dataLoss, reason: "removing a disk destroys its data")
        p.rule("disks.*.size", impact: .hot, verb: .resize, reason: "disks grow online")
        p.rule("networks.*.macaddr", comparison: .computed)
        p.rule("token", comparison: .writeOnly)
        p.rule("uptime", comparison: .ignore)
        p.rule("template", impact: .replace, reason: "the template is fixed at creation")
        return p
    }()

    static let cases: [Case] = [
        Case(
            reason: "a field absent from the manifest and never applied is unmanaged",
            desired: .m(["cores": .int(2)]),
            lastApplied: nil,
            observed: .m(["cores": .int(2), "cpu": .string("host")]),
            expected: []
        ),
        Case(
            reason: "a field removed from the manifest after being applied is removed from the system",
            desired: .m(["cores": .int(2)]),
            lastApplied: .m(["cores": .int(2), "cpu": .string("host")]),
            observed: .m(["cores": .int(2), "cpu": .string("host")]),
            expected: ["cpu \"host\"→nil manifest hot"]
        ),
        Case(
            reason: "a removed field already gone from the system is no change",
            desired: .m([:]),
            lastApplied: .m(["cpu": .string("host")]),
            observed: .m([:]),
            expected: []
        ),
        Case(
            reason: "the system moved away from an unchanged manifest: drift",
            desired: .m(["memory": .int(4096)]),
            lastApplied: .m(["memory": .int(4096)]),
            observed: .m(["memory": .int(2048)]),
            expected: ["memory 2048→4096 drift restart"]
        ),
        Case(
            reason: "the manifest changed: origin manifest",
            desired: .m(["memory": .int(8192)]),
            lastApplied: .m(["memory": .int(4096)]),
            observed: .m(["memory": .int(4096)]),
            expected: ["memory 4096→8192 manifest restart"]
        ),
        Case(
            reason: "never applied (adopted or new to state): origin manifest",
            desired: .m(["memory": .int(8192)]),
            lastApplied: nil,
            observed: .m(["memory": .int(4096)]),
            expected: ["memory 4096→8192 manifest restart"]
        ),
        Case(
            reason: "a computed field absent from the manifest never differs, even when it was applied before",
            desired: .m(["networks": .m(["net0": .m(["bridge": .string("vmbr0")])])]),
            lastApplied: .m(["networks": .m(["net0": .m(["bridge": .string("vmbr0"), "macaddr": .string("AA")])])]),
            observed: .m(["networks": .m(["net0": .m(["bridge": .string("vmbr0"), "macaddr": .string("BB")])])]),
            expected: []
        ),
        Case(
            reason: "a pinned computed field is compared like any other",
            desired: .m(["networks": .m(["net0": .m(["macaddr": .string("AA")])])]),
            lastApplied: nil,
            observed: .m(["networks": .m(["net0": .m(["macaddr": .string("BB")])])]),
            expected: ["networks.net0.macaddr \"BB\"→\"AA\" manifest hot"]
        ),
        Case(
            reason: "a write-only field whose fingerprint matches the last apply is unchanged, whatever is observed",
            desired: .m(["token": .string("s3cret")]),
            lastApplied: .m(["token": .string(Self.fp(.string("s3cret")))]),
            observed: .m([:]),
            expected: []
        ),
        Case(
            reason: "a write-only field with a new value is a sensitive change with no before",
            desired: .m(["token": .string("n3w")]),
            lastApplied: .m(["token": .string(Self.fp(.string("s3cret")))]),
            observed: .m([:]),
            expected: ["token nil→(sensitive) manifest hot sensitive"]
        ),
        Case(
            reason: "every secret reference is write-only",
            desired: .m(["password": .secret(.env("PW"))]),
            lastApplied: nil,
            observed: .m(["password": .string("x")]),
            expected: ["password nil→(sensitive) manifest hot sensitive"]
        ),
        Case(
            reason: "an ignored field never differs",
            desired: .m(["uptime": .int(1)]),
            lastApplied: nil,
            observed: .m(["uptime": .int(99)]),
            expected: []
        ),
        Case(
            reason: "a user ignore path with a wildcard skips matching fields only",
            desired: .m(["disks": .m(["scsi0": .m(["cache": .string("none"), "size": .int(2)])])]),
            lastApplied: nil,
            observed: .m(["disks": .m(["scsi0": .m(["cache": .string("writeback"), "size": .int(1)])])]),
            ignore: ["disks.*.cache"],
            expected: ["disks.scsi0.size 1→2 manifest hot"]
        ),
        Case(
            reason: "maps are compared key by key; a new entry is one change at its key with the entry's impact",
            desired: .m(["disks": .m(["scsi0": .m(["size": .int(1)]), "scsi1": .m(["size": .int(5)])])]),
            lastApplied: nil,
            observed: .m(["disks": .m(["scsi0": .m(["size": .int(1)])])]),
            expected: ["disks.scsi1 nil→{size: 5} manifest dataLoss"]
        ),
        Case(
            reason: "an entry removed from the manifest after apply is removed, with the entry rule's impact",
            desired: .m(["disks": .m(["scsi0": .m(["size": .int(1)])])]),
            lastApplied: .m(["disks": .m(["scsi0": .m(["size": .int(1)]), "scsi1": .m(["size": .int(5)])])]),
            observed: .m(["disks": .m(["scsi0": .m(["size": .int(1)]), "scsi1": .m(["size": .int(5)])])]),
            expected: ["disks.scsi1 {size: 5}→nil manifest dataLoss"]
        ),
        Case(
            reason: "lists are compared as wholes",
            desired: .m(["tags": .list([.string("a"), .string("b")])]),
            lastApplied: nil,
            observed: .m(["tags": .list([.string("b"), .string("a")])]),
            expected: ["tags [\"b\", \"a\"]→[\"a\", \"b\"] manifest hot"]
        ),
        Case(
            reason: "a value staged for the next restart is not a change again",
            desired: .m(["memory": .int(8192)]),
            lastApplied: .m(["memory": .int(8192)]),
            observed: .m(["memory": .int(4096)]),
            pending: .m(["memory": .int(8192)]),
            expected: []
        ),
        Case(
            reason: "the longest matching rule wins: a size change is hot, not the entry's dataLoss",
            desired: .m(["disks": .m(["scsi0": .m(["size": .int(2)])])]),
            lastApplied: nil,
            observed: .m(["disks": .m(["scsi0": .m(["size": .int(1)])])]),
            expected: ["disks.scsi0.size 1→2 manifest hot"]
        ),
    ]

    static func fp(_ v: Value) -> String { WriteOnlyFingerprint(reference: CanonicalJSON.digest(v), value: nil).text }

    static func describe(_ c: FieldChange) -> String {
        let before = c.before.map(\.description) ?? "nil"
        let after = c.isSensitive ? "(sensitive)" : (c.after.map(\.description) ?? "nil")
        return "\(c.path) \(before)→\(after) \(c.origin.rawValue) \(c.impact.rawValue)"
            + (c.isSensitive ? " sensitive" : "")
    }

    @Test(arguments: cases)
    func diff(_ c: Case) {
        let differ = Differ(policy: Self.policy, ignore: c.ignore)
        let got = differ.diff(desired: c.desired, lastApplied: c.lastApplied, observed: c.observed, pending: c.pending)
            .map(Self.describe)
        #expect(got == c.expected, "\(c.reason)")
    }

    /// A field the manifest leaves out compares as its rule's `absent` value, at any depth; without one it is unmanaged.
    @Test func anAbsentFieldWithAMeaningIsCompared() {
        var policy = Self.policy
        policy.rule("replication.pgHba", absent: .bool(true))
        let differ = Differ(policy: policy)
        func changes(_ desired: Value, _ observed: Value) -> [String] {
            differ.diff(desired: desired, lastApplied: nil, observed: observed).map { "\($0.path)" }
        }
        let broken = Value.m([
            "cores": .int(2), "replication": .m(["pgHba": .string("(missing)"), "slots": .bool(false)]),
        ])
        #expect(changes(.m(["cores": .int(2)]), broken) == ["replication.pgHba"], "the map itself left out too")
        #expect(changes(.m(["cores": .int(2), "replication": .m([:])]), broken) == ["replication.pgHba"])
        #expect(
            changes(.m(["cores": .int(2)]), .m(["cores": .int(2), "replication": .m(["pgHba": .bool(true)])])) == []
        )
        // What the manifest says wins over the rule's meaning.
        #expect(
            changes(.m(["replication": .m(["pgHba": .bool(false)])]), .m(["replication": .m(["pgHba": .bool(false)])]))
                == []
        )
        // Without the rule, the same observation is unmanaged.
        #expect(
            Differ(policy: Self.policy).diff(desired: .m(["cores": .int(2)]), lastApplied: nil, observed: broken)
                .isEmpty
        )
    }

    @Test func dynamicImpactDependsOnWhatIsObserved() {
        var policy = Self.policy
        policy.dynamicImpact = { path, observed, _ in
            guard path.description == "memory" else { return nil }
            return observed?["hotplug"] == .bool(true)
                ? (.hot, "memory hotplug is on") : (.restart, "no memory hotplug")
        }
        let differ = Differ(policy: policy)
        let hot = differ.diff(
            desired: .m(["memory": .int(2)]),
            lastApplied: nil,
            observed: .m(["memory": .int(1), "hotplug": .bool(true)])
        )
        let cold = differ.diff(desired: .m(["memory": .int(2)]), lastApplied: nil, observed: .m(["memory": .int(1)]))
        #expect(hot.map(\.impact) == [.hot])
        #expect(hot.first?.reason == "memory hotplug is on")
        #expect(cold.map(\.impact) == [.restart])
    }

    @Test func appliedFormNeverHoldsSecrets() {
        let differ = Differ(policy: Self.policy)
        let applied = differ.appliedForm(
            of: .m(["token": .string("s3cret"), "cloud": .m(["password": .secret(.env("PW"))]), "cores": .int(2)])
        )
        let text = CanonicalJSON.encode(applied)
        #expect(!text.contains("s3cret"))
        #expect(!text.contains("$secretEnv"))
        #expect(applied["cores"] == .int(2))
        #expect(applied["cloud"]?["password"]?.stringValue?.hasPrefix("fp:ref=sha256:") == true)
        // Applying the applied form back: the secret compares equal, nothing to do.
        let again = differ.diff(
            desired: .m(["cloud": .m(["password": .secret(.env("PW"))])]),
            lastApplied: applied,
            observed: .m(["cloud": .m([:])])
        )
        #expect(again.isEmpty)
    }

    @Test func aListHoldingASecretComparesItsVisiblePartsWhenTheProviderShowsTheReferenceBack() {
        let differ = Differ(policy: FieldPolicy())
        func receivers(_ channel: String) -> Value {
            .m([
                "receivers": .list([
                    .m(["name": .string("chat"), "apiURL": .secret(.env("SLACK")), "channel": .string(channel)])
                ])
            ])
        }
        let applied = differ.appliedForm(of: receivers("#ops"))
        // The provider put the desired reference where the system masks the secret: the channel is compared.
        #expect(differ.diff(desired: receivers("#ops"), lastApplied: applied, observed: receivers("#ops")).isEmpty)
        let drift = differ.diff(desired: receivers("#ops"), lastApplied: applied, observed: receivers("#random"))
        #expect(drift.map { $0.path.description } == ["receivers"])
        #expect(drift.first?.isSensitive == true)
        // A provider that shows something else there (no reference) keeps the fingerprint-only comparison.
        let masked: Value = .m([
            "receivers": .list([
                .m(["name": .string("chat"), "apiURL": .string("<secret>"), "channel": .string("#random")])
            ])
        ])
        #expect(differ.diff(desired: receivers("#ops"), lastApplied: applied, observed: masked).isEmpty)
    }

    @Test func secretsCompareByValueWhenBothSidesKnowItAndByReferenceOtherwise() {
        let path: FieldPath = ["password"]
        let ref = Value.secret(.env("PW"))
        let withValue: @Sendable (String) -> @Sendable (FieldPath, Value) -> String = { secret in
            { p, v in
                WriteOnlyFingerprint(reference: CanonicalJSON.digest(v), value: "sha256:" + SHA256.hex("\(p)\(secret)"))
                    .text
            }
        }
        let applied = Differ(policy: FieldPolicy(), fingerprint: withValue("one")).appliedForm(
            of: .m(["password": ref])
        )
        let desired = Value.m(["password": ref])
        // Same reference, same secret: no change.
        #expect(
            Differ(policy: FieldPolicy(), fingerprint: withValue("one")).diff(
                desired: desired,
                lastApplied: applied,
                observed: .m([:])
            ).isEmpty
        )
        // Same reference, rotated secret: a change.
        #expect(
            Differ(policy: FieldPolicy(), fingerprint: withValue("two")).diff(
                desired: desired,
                lastApplied: applied,
                observed: .m([:])
            ).count == 1
        )
        // A plan that cannot read the secret (CI): compared by reference, no change.
        #expect(Differ(policy: FieldPolicy()).diff(desired: desired, lastApplied: applied, observed: .m([:])).isEmpty)
        _ = path
    }

    @Test func aRemovedSecretNeverCarriesWhatTheSystemShows() {
        let differ = Differ(policy: FieldPolicy())
        let applied = differ.appliedForm(of: .m(["password": .secret(.env("PW")), "cores": .int(1)]))
        let changes = differ.diff(
            desired: .m(["cores": .int(1)]),
            lastApplied: applied,
            observed: .m(["password": .string("hunter2"), "cores": .int(1)])
        )
        #expect(changes.count == 1)
        #expect(changes.first?.isSensitive == true)
        #expect(changes.first?.before == nil, "the observed value of a secret is never kept")
    }

    @Test func aListHoldingASecretConverges() {
        let differ = Differ(policy: FieldPolicy())
        let desired = Value.m(["keys": .list([.string("a"), .secret(.file("/run/k"))])])
        let applied = differ.appliedForm(of: desired)
        #expect(differ.diff(desired: desired, lastApplied: applied, observed: .m([:])).isEmpty)
    }

    @Test func sha256KnownAnswers() {
        #expect(SHA256.hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            SHA256.hex(String(repeating: "a", count: 1000))
                == "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3"
        )
    }
}
