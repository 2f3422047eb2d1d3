import Foundation
import SetpointCore
import SetpointState
import SetpointTesting
import Testing

/// The `StateStore` contract, run against every store (``StoreKind``). Each test has its own folder.
@Suite(.timeLimit(.minutes(2))) struct StateStoreConformanceTests {
    static let api1 = ResourceID(kind: .virtualMachine, name: "api-1")
    static let api2 = ResourceID(kind: .virtualMachine, name: "api-2")
    static let pool = ResourceID(kind: .resourcePool, name: "web")
    static let cluster = ResourceID(kind: .proxmoxCluster, name: "pve-main")
    static let db = ResourceID(kind: .postgresCluster, name: "main-db")

    static func vm(_ id: ResourceID, cores: Int64, vmid: String? = "101") -> AppliedResource {
        AppliedResource(id: id, providerID: vmid, spec: .m(["cores": .int(cores)]), dependsOn: [cluster, pool])
    }

    // MARK: - Owning and forgetting

    @Test(arguments: StoreKind.allCases)
    func newStoreOwnsNothing(kind: StoreKind) async throws {
        let folder = try TemporaryFolder()
        let store = try await kind.makeStore(in: folder)
        #expect(!store.isReadOnly)
        #expect(try await store.ownedResources().isEmpty)
        #expect(try await store.owned(Self.api1) == nil)
    }

    @Test(arguments: StoreKind.allCases)
    func recordAppliedInsertsThenReplaces(kind: StoreKind) async throws {
        let folder = try TemporaryFolder()
        let store = try await kind.makeStore(in: folder)
        try await store.recordApplied(Self.vm(Self.api1, cores: 2))
        try await store.recordApplied(Self.vm(Self.api2, cores: 4))
        let updated = AppliedResource(id: Self.api1, providerID: "201", spec: .m(["cores": .int(8)]), dependsOn: [])
        try await store.recordApplied(updated)

        #expect(try await store.owned(Self.api1) == updated)
        #expect(try await store.owned(Self.api2) == Self.vm(Self.api2, cores: 4))
        #expect(try await store.ownedResources() == [Self.api1: updated, Self.api2: Self.vm(Self.api2, cores: 4)])
    }

    @Test(arguments: StoreKind.allCases)
    func providerIDCanBeClearedByAnUpsert(kind: StoreKind) async throws {
        let folder = try TemporaryFolder()
        let store = try await kind.makeStore(in: folder)
        try await store.recordApplied(Self.vm(Self.api1, cores: 2, vmid: "101"))
        try await store.recordApplied(Self.vm(Self.api1, cores: 2, vmid: nil))
        #expect(try await store.owned(Self.api1)?.providerID == nil)
    }

    @Test(arguments: StoreKind.allCases)
    func forgetRemovesOnlyThatResource(kind: StoreKind) async throws {
        let folder = try TemporaryFolder()
        let store = try await kind.makeStore(in: folder)
        try await store.recordApplied(Self.vm(Self.api1, cores: 2))
        try await store.recordApplied(Self.vm(Self.api2, cores: 2))
        try await store.forget(Self.api1)

        #expect(try await store.owned(Self.api1) == nil)
        #expect(try await store.ownedResources() == [Self.api2: Self.vm(Self.api2, cores: 2)])
        try await store.forget(Self.api1)  // not owned any more: nothing to do, no error
        try await store.forget(ResourceID(kind: .container, name: "never-owned"))
        #expect(try await store.ownedResources().count == 1)
    }

    @Test(arguments: StoreKind.allCases)
    func sameNameUnderAnotherKindIsAnotherResource(kind: StoreKind) async throws {
        let folder = try TemporaryFolder()
        let store = try await kind.makeStore(in: folder)
        let vm = AppliedResource(id: ResourceID(kind: .virtualMachine, name: "web"), spec: .m(["cores": .int(1)]))
        let pool = AppliedResource(
            id: ResourceID(kind: .resourcePool, name: "web"),
            spec: .m(["comment": .string("x")])
        )
        try await store.recordApplied(vm)
        try await store.recordApplied(pool)
        try await store.forget(vm.id)
        #expect(try await store.ownedResources() == [pool.id: pool])
    }

    // MARK: - Round trips

    /// Every shape a spec can take, including the ones a JSON decoder gets wrong (`1.0` is not `1`).
    static let nestedSpec: Value = .m([
        "null": .null,
        "bools": .list([.bool(true), .bool(false)]),
        "ints": .list([.int(0), .int(-1), .int(4 << 30), .int(.max), .int(.min)]),
        "doubles": .list([
            .double(1.0), .double(-0.5), .double(0.1), .double(2.5e-7), .double(1e18), .double(.leastNonzeroMagnitude),
            .double(1.7976931348623157e308), .double(-2.0),
        ]),
        "strings": .list([
            .string(""), .string("plain"), .string("quote \" backslash \\ slash /"), .string("line\nbreak\ttab\r"),
            .string("\u{01}\u{1F}"), .string("ünïcødé ✓ 🚀"), .string("null"), .string("1.0"), .string("true"),
        ]),
        "empty": .m(["list": .list([]), "map": .m([:])]),
        "nested": .m([
            "disks": .list([
                .m(["name": .string("scsi0"), "size": .int(34_359_738_368), "ssd": .bool(true)]),
                .m(["name": .string("scsi1"), "size": .int(1 << 40), "cache": .null]),
            ]),
            "deeper": .m(["a": .m(["b": .m(["c": .list([.list([.int(1)]), .double(3.25)])])])]),
        ]),
        "password": .string("sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"),
        "token": .secret(.env("PVE_TOKEN")),
        "caFile": .secret(.file("/run/secrets/pve-ca")),
    ])

    @Test(arguments: StoreKind.allCases)
    func nestedValuesRoundTripExactly(kind: StoreKind) async throws {
        let folder = try TemporaryFolder()
        let store = try await kind.makeStore(in: folder)
        let resource = AppliedResource(id: Self.db, providerID: "main-db@10.0.0.5", spec: Self.nestedSpec)
        try await store.recordApplied(resource)

        let read = try #require(try await store.owned(Self.db))
        #expect(read == resource)
        #expect(CanonicalJSON.encode(read.spec) == CanonicalJSON.encode(Self.nestedSpec))
        #expect(try await store.ownedResources()[Self.db] == resource)
    }

    @Test(arguments: StoreKind.allCases)
    func scalarSpecsRoundTrip(kind: StoreKind) async throws {
        let folder = try TemporaryFolder()
        let store = try await kind.makeStore(in: folder)
        let specs: [Value] = [.null, .bool(false), .int(7), .double(7.0), .string("s"), .list([]), .m([:])]
        for (index, spec) in specs.enumerated() {
            try await store.recordApplied(
                AppliedResource(id: ResourceID(kind: .container, name: "c\(index)"), spec: spec)
            )
        }
        let owned = try await store.ownedResources()
        for (index, spec) in specs.enumerated() {
            #expect(owned[ResourceID(kind: .container, name: "c\(index)")]?.spec == spec, "spec \(spec)")
        }
    }

    @Test(arguments: StoreKind.allCases)
    func dependsOnRoundTripsInOrder(kind: StoreKind) async throws {
        let folder = try TemporaryFolder()
        let store = try await kind.makeStore(in: folder)
        let dependencies = [Self.pool, Self.cluster, Self.db, ResourceID(kind: .alertRuleGroup, name: "a.b-c_d")]
        let resource = AppliedResource(id: Self.api1, spec: .m([:]), dependsOn: dependencies)
        let independent = AppliedResource(id: Self.api2, spec: .m([:]), dependsOn: [])
        try await store.recordApplied(resource)
        try await store.recordApplied(independent)

        #expect(try await store.owned(Self.api1)?.dependsOn == dependencies)
        #expect(try await store.owned(Self.api2)?.dependsOn == [])
    }

    // MARK: - Durability

    @Test(arguments: StoreKind.durable)
    func stateSurvivesReopening(kind: StoreKind) async throws {
        let folder = try TemporaryFolder()
        let first = try await kind.makeStore(in: folder)
        let resource = AppliedResource(id: Self.db, providerID: "x", spec: Self.nestedSpec, dependsOn: [Self.cluster])
        try await first.recordApplied(resource)
        try await first.recordApplied(Self.vm(Self.api1, cores: 2))
        try await first.forget(Self.api1)
        try kind.close(first)

        let writable = try #require(try kind.reopen(in: folder, readOnly: false))
        #expect(try await writable.ownedResources() == [Self.db: resource])
        try await writable.recordApplied(Self.vm(Self.api2, cores: 3))
        try kind.close(writable)

        let readOnly = try #require(try kind.reopen(in: folder, readOnly: true))
        #expect(readOnly.isReadOnly)
        #expect(try await readOnly.ownedResources() == [Self.db: resource, Self.api2: Self.vm(Self.api2, cores: 3)])
    }

    @Test(arguments: StoreKind.durable)
    func openingCreatesTheFolderAndFile(kind: StoreKind) async throws {
        let folder = try TemporaryFolder()
        #expect(folder.contents().isEmpty)
        let store = try await kind.makeStore(in: folder)
        #expect(FileManager.default.fileExists(atPath: folder.statePath))
        try kind.close(store)
    }

    // MARK: - Read-only

    @Test(arguments: StoreKind.durable)
    func readOnlyOpenOfMissingStateIsNilAndCreatesNothing(kind: StoreKind) async throws {
        let folder = try TemporaryFolder()
        #expect(try kind.reopen(in: folder, readOnly: true) == nil)
        #expect(folder.contents() == [], "read-only opening must create neither the folder nor the file")
    }

    @Test(arguments: StoreKind.allCases)
    func readOnlyStoreRefusesWrites(kind: StoreKind) async throws {
        let folder = try TemporaryFolder()
        let owned = Self.vm(Self.api1, cores: 2)
        let store = try await kind.makeReadOnlyStore(in: folder, owning: [owned])
        #expect(store.isReadOnly)

        let recordError = await #expect(throws: SetpointError.self) {
            try await store.recordApplied(Self.vm(Self.api2, cores: 1))
        }
        #expect(recordError?.code == .stateFailed)
        #expect(recordError?.message.contains("read-only") == true)
        let forgetError = await #expect(throws: SetpointError.self) { try await store.forget(Self.api1) }
        #expect(forgetError?.code == .stateFailed)

        #expect(try await store.ownedResources() == [Self.api1: owned], "a refused write changes nothing")
    }

    @Test(arguments: StoreKind.durable)
    func readOnlyUseLeavesTheFilesAsTheyWere(kind: StoreKind) async throws {
        let folder = try TemporaryFolder()
        let writer = try await kind.makeStore(in: folder)
        try await writer.recordApplied(Self.vm(Self.api1, cores: 2))
        try kind.close(writer)
        let before = try snapshot(folder)

        let store = try #require(try kind.reopen(in: folder, readOnly: true))
        _ = try await store.ownedResources()
        _ = try await store.owned(Self.api1)
        _ = try? await store.recordApplied(Self.vm(Self.api2, cores: 1))
        try kind.close(store)
        let after = try snapshot(folder)
        #expect(after.keys.sorted() == before.keys.sorted(), "no file created or removed")
        #expect(after == before, "no file changed")
    }

    /// Each file's name and bytes, except SQLite's shared-memory index (`-shm`), where every WAL reader
    /// records its read marks: it holds no state and SQLite requires it to be writable.
    private func snapshot(_ folder: TemporaryFolder) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for path in folder.contents() {
            let url = folder.url.appendingPathComponent(path)
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder), !isFolder.boolValue {
                files[path] = path.hasSuffix("-shm") ? Data() : try Data(contentsOf: url)
            }
        }
        return files
    }

    // MARK: - Versions

    @Test(arguments: StoreKind.durable)
    func stateFromANewerBuildIsRefused(kind: StoreKind) async throws {
        let folder = try TemporaryFolder()
        try await kind.makeNewerState(in: folder, migration: "v99-from-the-future")

        let readOnlyError = #expect(throws: SetpointError.self) { try kind.reopen(in: folder, readOnly: true) }
        #expect(readOnlyError?.code == .stateFailed)
        #expect(readOnlyError?.message.contains("v99-from-the-future") == true)
        #expect(readOnlyError?.message.contains("v1-owned-resources") == true, "names the versions this build knows")
        #expect(readOnlyError?.message.contains(folder.statePath) == true)

        let writableError = #expect(throws: SetpointError.self) { try kind.reopen(in: folder, readOnly: false) }
        #expect(writableError?.code == .stateFailed)
        #expect(writableError?.message.contains("v99-from-the-future") == true)
    }

    // MARK: - Concurrency

    @Test(arguments: StoreKind.allCases)
    func concurrentWritesAreAllKept(kind: StoreKind) async throws {
        let folder = try TemporaryFolder()
        let store = try await kind.makeStore(in: folder)
        let count = 48
        let ids = (0..<count).map { ResourceID(kind: .container, name: "ct-\($0)") }
        let shared = ResourceID(kind: .resourcePool, name: "shared")

        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, id) in ids.enumerated() {
                group.addTask {
                    try await store.recordApplied(AppliedResource(id: id, spec: .m(["n": .int(Int64(index))])))
                    try await store.recordApplied(AppliedResource(id: shared, spec: .m(["by": .int(Int64(index))])))
                    _ = try await store.ownedResources()
                }
            }
            try await group.waitForAll()
        }
        let afterInserts = try await store.ownedResources()
        #expect(afterInserts.count == count + 1)
        for (index, id) in ids.enumerated() {
            #expect(afterInserts[id]?.spec == .m(["n": .int(Int64(index))]))
        }
        let writer = try #require(afterInserts[shared]?.spec["by"]?.intValue)
        #expect((0..<Int64(count)).contains(writer), "the shared resource holds one of the written specs")

        // Forget the even ones while updating the odd ones, all at once.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, id) in ids.enumerated() {
                group.addTask {
                    if index.isMultiple(of: 2) {
                        try await store.forget(id)
                    } else {
                        try await store.recordApplied(
                            AppliedResource(id: id, spec: .m(["n": .int(-1)]), dependsOn: [shared])
                        )
                    }
                }
            }
            try await group.waitForAll()
        }
        let final = try await store.ownedResources()
        #expect(final.count == count / 2 + 1)
        for (index, id) in ids.enumerated() where !index.isMultiple(of: 2) {
            #expect(final[id] == AppliedResource(id: id, spec: .m(["n": .int(-1)]), dependsOn: [shared]))
        }
    }

    // MARK: - Failures

    @Test(arguments: StoreKind.durable)
    func unusablePathsFailWithThePath(kind: StoreKind) async throws {
        let folder = try TemporaryFolder()
        // The state's folder should be where a file already is.
        try Data("not a folder".utf8).write(to: folder.url.appendingPathComponent(".setpoint"))
        let error = #expect(throws: SetpointError.self) { try kind.reopen(in: folder, readOnly: false) }
        #expect(error?.code == .stateFailed)
        #expect(error?.message.contains(folder.url.appendingPathComponent(".setpoint").path) == true)
    }

    @Test(arguments: StoreKind.durable)
    func aFileThatIsNotADatabaseIsRefused(kind: StoreKind) async throws {
        let folder = try TemporaryFolder()
        try FileManager.default.createDirectory(
            at: folder.url.appendingPathComponent(".setpoint"),
            withIntermediateDirectories: true
        )
        try Data(String(repeating: "not sqlite ", count: 200).utf8).write(to: URL(fileURLWithPath: folder.statePath))

        for readOnly in [true, false] {
            let error = #expect(throws: SetpointError.self) { try kind.reopen(in: folder, readOnly: readOnly) }
            #expect(error?.code == .stateFailed)
            #expect(error?.message.contains(folder.statePath) == true)
            #expect(error?.message.contains("not a database") == true, "quotes SQLite: \(error?.message ?? "")")
        }
    }
}
