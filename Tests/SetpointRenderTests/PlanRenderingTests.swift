import Foundation
import SetpointCore
import SetpointRender
import SetpointTesting
import Testing

@Suite(.timeLimit(.minutes(2))) struct PlanRenderingTests {
    typealias F = PlanFixtures
    static let colour = TerminalStyle(isEnabled: true)
    static let esc = "\u{1B}["

    static func ciRenderer(_ style: TerminalStyle = .plain) -> PlanTextRenderer {
        PlanTextRenderer(style: style) { file, line in
            guard let lines = F.ciSource[file], line >= 1, line <= lines.count else { return nil }
            return lines[line - 1]
        }
    }

    static func lines(_ text: String) -> [String] {
        text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    // MARK: - golden files

    @Test func productionPlanText() {
        assertSnapshot(PlanTextRenderer().render(F.production), named: "plan.txt")
    }

    @Test func productionPlanColour() {
        assertSnapshot(PlanTextRenderer(style: Self.colour).render(F.production), named: "plan-colour.txt")
    }

    @Test func productionPlanJSON() {
        assertSnapshot(PlanJSONRenderer().render(F.production), named: "plan.json")
    }

    @Test func ciPlanText() {
        assertSnapshot(Self.ciRenderer().render(F.ci), named: "plan-ci.txt")
    }

    @Test func ciPlanJSON() {
        assertSnapshot(PlanJSONRenderer().render(F.ci), named: "plan-ci.json")
    }

    @Test func noChangesText() {
        assertSnapshot(PlanTextRenderer().render(F.noChanges), named: "plan-no-changes.txt")
    }

    @Test func emptyPlan() {
        assertSnapshot(PlanTextRenderer().render(F.empty), named: "plan-empty.txt")
        assertSnapshot(PlanJSONRenderer().render(F.empty), named: "plan-empty.json")
    }

    // MARK: - text: key lines, so that a wrong renderer fails even after a careless re-record

    @Test func textShowsEveryVerbWithItsSymbolImpactAndApproval() {
        let text = PlanTextRenderer().render(F.production)
        let expected = [
            "Plan 3f9a1c2b7e4d (2025-06-01T12:00:00Z)",
            "Manifests: infra/prod (git 1a2b3c4d5e6f, digest 9f86d081884c)",
            "Symbols: + create, ~ change in place (update, restart, resize, migrate, promote), -/+ replace, - delete",
            "  + VirtualMachine/api-3",
            "  ~ VirtualMachine/api-1 (id 101)  [restart]",
            "  ~ VirtualMachine/api-1 restart (id 101)  (requires approval)",
            "  ~ VirtualMachine/api-2 migrate (id 102)",
            "  ~ VirtualMachine/db-1 resize (id 110)",
            "-/+ VirtualMachine/build-1 (id 120)  [data loss] (requires approval)",
            "  ~ PostgresCluster/main-db  [restart]",
            "  ~ PostgresCluster/main-db restart  (requires approval)",
            "  ~ PostgresCluster/main-db promote  (requires approval)",
            "  - VirtualMachine/old-1 (id 130)  [data loss] (requires approval)",
        ]
        let lines = Self.lines(text)
        for line in expected { #expect(lines.contains(line), "missing line: \(line)") }
        // Action headers in plan order, no-ops left out.
        let headers = lines.filter {
            $0.hasPrefix("  + ") || $0.hasPrefix("  ~ ") || $0.hasPrefix("  - ") || $0.hasPrefix("-/+ ")
        }
        #expect(headers == Array(expected[3...]))
        #expect(
            !text.contains("ProxmoxCluster/pve-main") && !text.contains("ConnectionPool/main-pool"),
            "no-ops are only counted"
        )
        #expect(
            lines.dropLast().last
                == "Plan: 1 to create, 2 to update, 1 to replace, 1 to delete, 2 to restart, 1 to resize, "
                + "1 to migrate, 1 to promote; 3 unchanged. 5 need approval."
        )
        #expect(!text.contains(Self.esc), "no escape codes without a terminal")
    }

    @Test func textShowsFieldChangesWithValuesImpactAndOrigin() {
        let lines = Self.lines(PlanTextRenderer().render(F.production))
        let expected = [
            "      # VirtualMachine/api-3 does not exist",
            "      + disks: {scsi0: {discard: true, size: 32Gi, storage: \"local-lvm\"}}",
            "      + memory: 4Gi",
            "      + tags: [\"api\", \"prod\"]",
            "      # drift: the system no longer matches the last apply",
            "      + balloon: 1Gi  [restart]",
            "          # enabling the balloon device takes effect at the next restart",
            "      ~ cores: 2 → 4  [restart]",
            "      - description: \"temporary: load test\"",
            "      ~ memory: 2Gi → 4Gi  [restart] (drift)",
            "      ~ tags: [\"api\"] → [\"api\", \"prod\"]",
            "      pending restart: balloon, cores, memory (staged by the update above)",
            "      ~ disks.scsi1.size: 100Gi → 200Gi",
            "      # spec.clone.vmid forces replacement: the template of a clone is fixed at creation",
            "      ~ clone.vmid: 9000 → 9001  [replace]",
            "      - disks.scsi0: {size: 20Gi, storage: \"local-lvm\"}  [data loss]",
            "      ~ connection.connectTimeout: 5s → 10s",
            "      ~ parameters.max_connections: \"200\" → \"400\"  [restart]",
            "      ~ parameters.work_mem: \"4MB\" → \"16MB\"  (drift)",
            "      ~ replication.password: (sensitive)",
            "      + cloudInit: (sensitive)",
            "      pending restart: parameters.max_connections (staged by the update above)",
            "      # annotated setpoint/approval: required",
            "      ~ primary: \"pg-1\" → \"pg-2\"",
            "          # changing the primary is a switchover",
        ]
        for line in expected { #expect(lines.contains(line), "missing line: \(line)") }
        // The switchover reason sits under its field, not also under the header.
        #expect(!lines.contains("      # changing the primary is a switchover"))
        // The replacement's field reason is already in the header's reason.
        #expect(!lines.contains("          # the template of a clone is fixed at creation"))
    }

    @Test func colourFollowsTheVerbAndOtherwiseChangesNothing() {
        let plain = PlanTextRenderer().render(F.production)
        let coloured = PlanTextRenderer(style: Self.colour).render(F.production)
        #expect(coloured.contains("  \u{1B}[32m+\u{1B}[0m \u{1B}[1mVirtualMachine/api-3\u{1B}[0m\n"), "create: green +")
        #expect(
            coloured.contains("  \u{1B}[1;33m~\u{1B}[0m \u{1B}[1mVirtualMachine/api-1\u{1B}[0m"),
            "update: yellow ~"
        )
        #expect(
            coloured.contains("\u{1B}[35m-/+\u{1B}[0m \u{1B}[1mVirtualMachine/build-1\u{1B}[0m"),
            "replace: magenta -/+"
        )
        #expect(coloured.contains("  \u{1B}[1;31m-\u{1B}[0m \u{1B}[1mVirtualMachine/old-1\u{1B}[0m"), "delete: red -")
        #expect(coloured.contains("\u{1B}[1;31m[data loss]\u{1B}[0m"))
        #expect(coloured.contains("\u{1B}[1;33m[restart]\u{1B}[0m"))
        #expect(Self.stripANSI(coloured) == plain, "colour only adds escape codes")
    }

    @Test(arguments: [
        (true, [String: String](), true),
        (false, [:], false),
        (true, ["NO_COLOR": "1"], false),
    ])
    func colourOnlyOnATerminalWithoutNoColor(_ isTerminal: Bool, _ env: [String: String], _ coloured: Bool) {
        let style = TerminalStyle.detect(isTerminal: isTerminal, environment: env)
        #expect(PlanTextRenderer(style: style).render(F.production).contains(Self.esc) == coloured)
    }

    @Test func ciPlanListsUnknownOwnershipAndPlanningDiagnostics() {
        let renderer = Self.ciRenderer()
        let text = renderer.render(F.ci)
        #expect(text.contains("\nOwnership unknown for Container, VirtualMachine: no state was read,"))
        #expect(text.contains("  ~ VirtualMachine/api-1 (id 101)  (error below)\n"))
        #expect(text.contains("      + memory: 1536Mi\n      + swap: 512Mi\n"))
        // Diagnostics exactly as `setpoint validate` renders them, snippet included.
        let diagnostics = DiagnosticTextRenderer(sourceLine: renderer.sourceLine).render(F.ci.diagnostics)
        #expect(text.contains("\n" + diagnostics + "\n"))
        #expect(text.contains(" 14 |     scsi0: {storage: local-lvm, size: 32Gi}\n"))
        #expect(
            text.hasSuffix(
                "\nPlan: 1 to create, 1 to update, 0 to replace, 0 to delete; 1 unchanged.\n"
                    + "The plan has 2 errors and cannot be applied.\n"
            )
        )
    }

    @Test func orphansAreListedUnlessThePlanDeletesThem() {
        let text = PlanTextRenderer().render(F.noChanges)
        #expect(
            text.contains(
                "\nOrphans (owned but not in the manifests; --prune deletes them):\n"
                    + "    Container/scratch-1\n    VirtualMachine/old-2\n"
            )
        )
        #expect(text.hasSuffix("\n\nNo changes. 12 resources match their manifests.\n"))
        #expect(!text.contains("Symbols:"))
        // With --prune the orphan is a delete action and not listed again.
        #expect(!PlanTextRenderer().render(F.production).contains("Orphans"))
    }

    @Test func noChangesWording() {
        let one = Plan(id: "p", createdAt: "", source: F.source, actions: [F.noop("VirtualMachine/a")])
        #expect(PlanTextRenderer().render(one).hasSuffix("\nNo changes. 1 resource matches its manifest.\n"))
        #expect(
            PlanTextRenderer().render(F.empty)
                == "Plan e3b0c44298fc\nManifests: digest 4f53cda18c2b\n\nNo changes. No resources were planned.\n"
        )
    }

    @Test func aRestartWithoutStagedChangesInThePlanSaysSo() {
        let restart = Action(
            resource: F.id("VirtualMachine/api-1"),
            verb: .restart,
            impact: .restart,
            reasons: ["changes are pending restart"],
            requiresApproval: true,
            providerID: "101"
        )
        let text = PlanTextRenderer().render(Plan(id: "p", createdAt: "", source: F.source, actions: [restart]))
        #expect(
            text.contains(
                "  ~ VirtualMachine/api-1 restart (id 101)  (requires approval)\n"
                    + "      # changes are pending restart\n"
                    + "      pending restart: changes already staged on the system take effect\n"
            )
        )
        #expect(
            text.hasSuffix(
                "Plan: 0 to create, 0 to update, 0 to replace, 0 to delete, 1 to restart; 0 unchanged. 1 needs approval.\n"
            )
        )
    }

    @Test func aListOfNamedMembersIsShownMemberByMember() {
        func member(_ name: String, _ port: Int64, sync: Bool = false) -> Value {
            .map(["name": .string(name), "host": .string("10.0.0.1"), "port": .int(port), "synchronous": .bool(sync)])
        }
        let change = FieldChange(
            path: ["members"],
            before: .list([member("pg-1", 5432), member("pg-2", 5433), member("pg-4", 5435)]),
            after: .list([member("pg-1", 5432), member("pg-2", 5433, sync: true), member("pg-3", 5434)]),
            origin: .manifest,
            impact: .hot,
            reason: "creates replica pg-3"
        )
        let update = Action(
            resource: F.id("PostgresCluster/main"),
            verb: .update,
            changes: [change],
            reasons: ["creates replica pg-3"]
        )
        let text = PlanTextRenderer().render(Plan(id: "p", createdAt: "", source: F.source, actions: [update]))
        #expect(
            text.contains(
                "      ~ members:\n"
                    + "          ~ pg-2: synchronous: false → true\n"
                    + "          + pg-3: {host: \"10.0.0.1\", port: 5434, synchronous: false}\n"
                    + "          - pg-4\n"
            ),
            "\(text)"
        )
        #expect(!text.contains("pg-1"), "an unchanged member is not repeated")
    }

    @Test func anUnknownTypedOperationIsShownAndCounted() {
        let snapshot = Action(
            resource: F.id("VirtualMachine/db-1"),
            verb: Verb(rawValue: "snapshot"),
            reasons: ["before the upgrade"]
        )
        let plan = Plan(id: "p", createdAt: "", source: F.source, actions: [snapshot])
        let text = PlanTextRenderer().render(plan)
        #expect(text.contains("\n  ~ VirtualMachine/db-1 snapshot\n"))
        #expect(text.contains("; 0 unchanged.") && text.contains(", 1 to snapshot;"))
        #expect(PlanJSONRenderer().document(plan).summary.operations == ["snapshot": 1])
    }

    // MARK: - secrets never leak, text never breaks lines

    static let leaky: Plan = {
        let vm = Action(
            resource: F.id("VirtualMachine/api-1"),
            verb: .update,
            changes: [
                // Flagged sensitive by the differ, with plain strings in it.
                FieldChange(
                    path: ["description"],
                    before: .string("hunter2-old"),
                    after: .string("hunter2-new"),
                    isSensitive: true,
                    origin: .manifest,
                    impact: .hot
                ),
                // Not flagged, but the schema says it is a secret (an observed fingerprint, say).
                FieldChange(
                    path: ["cloudInit", "password"],
                    before: .string("hunter2-fingerprint"),
                    after: .string("hunter2-next"),
                    origin: .drift,
                    impact: .hot
                ),
                // A secret nested in a map the schema knows.
                FieldChange(
                    path: ["cloudInit"],
                    before: .map(["user": .string("ops"), "password": .string("hunter2-nested")]),
                    after: .map(["user": .string("admin"), "password": .secret(.file("/run/secrets/hunter2"))]),
                    origin: .manifest,
                    impact: .hot
                ),
                // Removal of a sensitive value.
                FieldChange(
                    path: ["agent"],
                    before: .string("hunter2-removed"),
                    after: nil,
                    isSensitive: true,
                    origin: .manifest,
                    impact: .hot
                ),
            ],
            providerID: "101"
        )
        return Plan(id: "p", createdAt: "", source: F.source, actions: [vm])
    }()

    @Test func sensitiveValuesNeverAppear() throws {
        let text = PlanTextRenderer().render(Self.leaky)
        let json = PlanJSONRenderer().render(Self.leaky)
        for output in [text, json] {
            #expect(!output.contains("hunter2"), "a secret leaked:\n\(output)")
        }
        #expect(text.contains("      ~ description: (sensitive)\n"))
        #expect(text.contains("      ~ cloudInit.password: (sensitive)  (drift)\n"))
        #expect(
            text.contains(
                "      ~ cloudInit: {password: (sensitive), user: \"ops\"} → {password: (sensitive), user: \"admin\"}\n"
            )
        )
        #expect(text.contains("      - agent: (sensitive)\n"))
        let doc = PlanJSONRenderer().document(Self.leaky)
        let changes = doc.actions[0].changes
        #expect(
            changes[0].sensitive && changes[0].before == .string("(sensitive)")
                && changes[0].after == .string("(sensitive)")
        )
        #expect(changes[1].sensitive, "a schema secret is reported sensitive")
        #expect(changes[2].after == .object(["user": .string("admin"), "password": .string("(sensitive)")]))
        #expect(changes[3].operation == "remove" && changes[3].after == nil)
    }

    @Test func controlCharactersAreEscaped() {
        let change = FieldChange(
            path: ["description"],
            before: .string("line 1\nline 2"),
            after: .string("\u{1B}[31mred\u{1B}[0m \"q\""),
            origin: .manifest,
            impact: .hot
        )
        let action = Action(
            resource: F.id("VirtualMachine/api-1"),
            verb: .update,
            changes: [change],
            reasons: ["odd\ttext\r"]
        )
        let text = PlanTextRenderer().render(Plan(id: "p", createdAt: "", source: F.source, actions: [action]))
        #expect(text.contains(#"      ~ description: "line 1\nline 2" → "\u{1b}[31mred\u{1b}[0m \"q\""\#n"#))
        #expect(text.contains(#"      # odd\ttext\r\#n"#))
        #expect(!text.contains(Self.esc))
    }

    @Test(arguments: [
        ("VirtualMachine", "memory", Value.int(4 << 30), "4Gi"),
        ("VirtualMachine", "memory", .int(1536 << 20), "1536Mi"),
        ("PostgresCluster", "replication.maxSwitchoverLag", .int(16_000_000), "16M"),
        ("PostgresCluster", "replication.maxSwitchoverLag", .int(524_288), "512Ki"),
        ("PostgresCluster", "replication.maxSwitchoverLag", .int(1_000_001), "1000001"),
        ("PostgresCluster", "connection.connectTimeout", .int(90_000), "1m30s"),
        ("PostgresCluster", "parameters.shared_buffers", .string("1GB"), "\"1GB\""),
        ("VirtualMachine", "cores", .int(1024), "1024"),
        ("Widget", "size", .int(1 << 30), "1Gi"),
        ("Widget", "count", .int(1 << 30), "1073741824"),
        ("Widget", "limits", .map(["swap": .int(1 << 20), "cpus": .int(2)]), "{cpus: 2, swap: 1Mi}"),
    ])
    func valuesPrintInTheirUnits(_ kind: String, _ path: String, _ value: Value, _ expected: String) {
        let fieldPath = FieldPath(path.split(separator: ".").map { .key(String($0)) })
        let change = FieldChange(path: fieldPath, before: nil, after: value, origin: .manifest, impact: .hot)
        let action = Action(resource: ResourceID(kind: ResourceKind(kind), name: "x"), verb: .create, changes: [change])
        let text = PlanTextRenderer().render(Plan(id: "p", createdAt: "", source: F.source, actions: [action]))
        #expect(text.contains("      + \(path): \(expected)\n"), "\(text)")
    }

    // MARK: - summary

    @Test func summaryCounts() {
        let s = PlanSummary(F.production)
        #expect([s.count(.create), s.count(.update), s.count(.replace), s.count(.delete)] == [Int]([1, 2, 1, 1]))
        #expect(s.operations.map { "\($0.verb)=\($0.count)" } == ["restart=2", "resize=1", "migrate=1", "promote=1"])
        #expect(s.unchanged == 3 && s.needingApproval == 5 && s.changes == 10 && s.destructive == 2)
        #expect(s.hasChanges && s.isApplyable && s.unprunedOrphans == 0)
        let ci = PlanSummary(F.ci)
        #expect(ci.errors == 2 && !ci.isApplyable && ci.changes == 2)
        let none = PlanSummary(F.noChanges)
        #expect(!none.hasChanges && none.unchanged == 12 && none.unprunedOrphans == 2 && none.needingApproval == 0)
        #expect(!PlanSummary(F.empty).hasChanges)
    }

    // MARK: - JSON

    @Test func jsonIsVersionedAndDecodesToTheSameDocument() throws {
        let renderer = PlanJSONRenderer()
        let json = renderer.render(F.production)
        #expect(json.hasPrefix("{\n  \"actions\" : [\n"), "sorted keys, pretty-printed")
        #expect(json.contains("\n  \"formatVersion\" : 1,\n"))
        let doc = try JSONDecoder().decode(PlanJSONDocument.self, from: Data(json.utf8))
        #expect(doc == renderer.document(F.production))
        #expect(
            doc.actions.map(\.id) == F.production.actions.map(\.id.description),
            "every action, no-ops included, in plan order"
        )
        #expect(
            doc.summary.create == 1 && doc.summary.update == 2 && doc.summary.replace == 1 && doc.summary.delete == 1
        )
        #expect(doc.summary.operations == ["restart": 2, "resize": 1, "migrate": 1, "promote": 1])
        #expect(doc.summary.unchanged == 3 && doc.summary.needingApproval == 5 && doc.summary.destructive == 2)
        #expect(doc.source.gitCommit == "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b", "full commit and digest in JSON")
        #expect(doc.fingerprints["VirtualMachine/api-1"] == "fp4")
        #expect(doc.orphans == ["VirtualMachine/old-1"])

        let api1 = try #require(doc.actions.first { $0.id == "VirtualMachine/api-1:update" })
        #expect(api1.impact == "restart" && api1.providerID == "101" && !api1.requiresApproval)
        let memory = try #require(api1.changes.first { $0.path == "memory" })
        #expect(memory.before == .int(2 << 30) && memory.after == .int(4 << 30), "sizes stay bytes in JSON")
        #expect(memory.origin == "drift" && memory.impact == "restart" && memory.operation == "change")
        let restart = try #require(doc.actions.first { $0.id == "VirtualMachine/api-1:restart" })
        #expect(restart.dependsOn == ["VirtualMachine/api-1:update"] && restart.requiresApproval)
        let build = try #require(doc.actions.first { $0.verb == "replace" })
        #expect(build.impact == "dataLoss" && build.changes.map(\.path) == ["clone.vmid", "disks.scsi0"])
        #expect(build.changes[1].operation == "remove" && build.changes[1].after == nil)
        let password = try #require(doc.actions.flatMap(\.changes).first { $0.path == "replication.password" })
        #expect(
            password.sensitive && password.before == nil && password.after == .string("(sensitive)")
                && password.operation == "add"
        )
        #expect(!json.contains("PG_REPLICATION_PASSWORD") && !json.contains("$secret"), "not even the reference")
    }

    @Test func jsonDiagnosticsHaveTheValidateShape() throws {
        let plan = try JSONSerialization.jsonObject(with: Data(PlanJSONRenderer().render(F.ci).utf8)) as? [String: Any]
        let validate =
            try JSONSerialization.jsonObject(
                with: Data(
                    DiagnosticJSONRenderer().render(diagnostics: F.ci.diagnostics, resources: 0, files: 0, skipped: 0)
                        .utf8
                )
            ) as? [String: Any]
        let a = try #require(plan?["diagnostics"] as? [[String: Any]])
        let b = try #require(validate?["diagnostics"] as? [[String: Any]])
        #expect(a.count == 2)
        #expect(NSArray(array: a).isEqual(to: b))
        #expect(plan?["applyable"] as? Bool == false)
        #expect(plan?["ownershipUnknown"] as? [String] == ["Container", "VirtualMachine"])
    }

    @Test func jsonKeepsNullApartFromAbsent() throws {
        let change = FieldChange(path: ["description"], before: .null, after: nil, origin: .manifest, impact: .hot)
        let plan = Plan(
            id: "p",
            createdAt: "",
            source: F.source,
            actions: [Action(resource: F.id("VirtualMachine/a"), verb: .update, changes: [change])]
        )
        let json = PlanJSONRenderer().render(plan)
        #expect(json.contains("\"before\" : null"))
        let doc = try JSONDecoder().decode(PlanJSONDocument.self, from: Data(json.utf8))
        #expect(doc.actions[0].changes[0].before == .null && doc.actions[0].changes[0].after == nil)
    }

    static func stripANSI(_ s: String) -> String {
        var out = ""
        var chars = s.makeIterator()
        while let c = chars.next() {
            if c == "\u{1B}" {
                while let d = chars.next(), d != "m" {}
                continue
            }
            out.append(c)
        }
        return out
    }
}
