import SetpointCore
import Testing

/// A kind's field table read as a field policy: rows inherit what they leave out from the rows above them, the most
/// specific row wins, and the kind's own impact rules come before a row's.
@Suite(.timeLimit(.minutes(1))) struct FieldTableTests {
    static let table = FieldTable<String>(
        defaultImpact: .restart,
        kindImpact: { query, row in
            query.observed?["frozen"] == .bool(true) && row?.path != "name" ? (.replace, "frozen") : nil
        },
        rows: [
            .init("name", "name", impact: .hot, reason: "renamed live"),
            .init("secret", "secret", comparison: .writeOnly, impact: .replace, reason: "set at create"),
            .init("secret.value", "secret-value"),
            .init("disks", "disks"),
            .init("disks.*", "disk", impact: .dataLoss, reason: "removing a disk loses it"),
            .init("disks.*.size", "size", impact: .hot, verb: .resize, reason: "grows online"),
            .init("disks.*.cache", "cache"),
            .init("disks.boot.cache", "boot-cache", impact: .replace, reason: "the boot disk's cache is fixed"),
            .init(
                "memory",
                "memory",
                impact: .restart,
                reason: "at the next restart",
                dynamicImpact: { query in query.observed?["hotplug"] == .bool(true) ? (.hot, "hotplug") : nil }
            ),
            .init("ignored", "ignored", comparison: .ignore),
            .init("ignored.inner", "inner"),
        ]
    )

    @Test func rowsInheritImpactReasonAndComparisonFromTheRowsAboveThem() throws {
        let policy = Self.table.policy()
        let cache = try #require(policy.rule(for: (["disks", "sdb", "cache"] as FieldPath)))
        #expect(cache.impact == .dataLoss && cache.reason == "removing a disk loses it", "from disks.*")
        let secret = try #require(policy.rule(for: (["secret", "value"] as FieldPath)))
        #expect(secret.comparison == .writeOnly && secret.impact == .replace)
        #expect(policy.rule(for: (["ignored", "inner"] as FieldPath))?.comparison == .ignore)
        #expect(policy.rule(for: (["disks"] as FieldPath))?.impact == .restart, "no row above: the table's default")
        #expect(policy.rule(for: (["disks", "sdb", "size"] as FieldPath))?.verb == .resize)
    }

    @Test func theMostSpecificRowWins() throws {
        #expect(Self.table.row(for: (["disks", "boot", "cache"] as FieldPath))?.mapping == "boot-cache")
        #expect(Self.table.row(for: (["disks", "data", "cache"] as FieldPath))?.mapping == "cache")
        #expect(Self.table.row(for: (["disks", "data"] as FieldPath))?.mapping == "disk")
        #expect(Self.table.row(for: (["unknown"] as FieldPath)) == nil)
    }

    @Test func theKindsRuleComesBeforeTheRowsAndARowsRuleBeforeItsImpact() throws {
        let policy = Self.table.policy()
        let dynamic = try #require(policy.dynamicImpact)
        let memory = (["memory"] as FieldPath)
        #expect(dynamic(memory, .map(["hotplug": .bool(true)]), .int(1))?.0 == .hot)
        #expect(dynamic(memory, .map(["hotplug": .bool(false)]), .int(1)) == nil, "the row's static impact stands")
        let frozen = Value.map(["hotplug": .bool(true), "frozen": .bool(true)])
        #expect(dynamic(memory, frozen, .int(1))?.1 == "frozen")
        #expect(dynamic((["name"] as FieldPath), frozen, .string("b")) == nil)
    }

    @Test func coverageComparesTheRowsWithTheSchema() {
        let schema = ObjectSchema([
            Field("name", .string(.nonEmpty), "Name."),
            Field("memory", .integer(min: 1, max: nil), "Memory."),
            Field(
                "disks",
                .map(
                    keys: .nonEmpty,
                    values: .object(ObjectSchema([Field("size", .integer(min: 1, max: nil), "Size.")]))
                ),
                "Disks."
            ),
            Field("startup", .object(ObjectSchema([Field("order", .integer(min: 0, max: nil), "Order.")])), "Startup."),
        ])
        var table = Self.table
        table.rows.append(.init("startup", "startup", coversFields: true))
        let coverage = table.coverage(of: schema)
        #expect(coverage.missing.isEmpty, "startup.order is covered by its object's row: \(coverage.missing)")
        #expect(
            coverage.unknown.sorted()
                == ["disks.*.cache", "disks.boot.cache", "ignored", "ignored.inner", "secret", "secret.value"]
        )
        table.rows.append(.init("memory", "memory-again"))
        #expect(table.coverage(of: schema).duplicated == ["memory"])
    }
}
