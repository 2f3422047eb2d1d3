import Foundation
import SetpointCore
import SetpointState
import SetpointTesting
import Testing

/// The stores the conformance suite runs against. A new backend adds a case here and passes the same tests.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case inMemory
    case sqlite
    /// A database of the test's own on the PostgreSQL scripts/test starts (when it runs, and always under CI=true).
    case postgres

    var testDescription: String { rawValue }

    static var allCases: [StoreKind] {
        [.inMemory, .sqlite]
            + (ProcessInfo.processInfo.environment["SETPOINT_TEST_PG_PORT"] != nil || ExternalTool.isCI
                ? [.postgres] : [])
    }

    /// Kinds whose state lives in a file: reopening sees earlier writes, and there is a file to open read-only, to find
    /// missing, or to find written by a newer build. (PostgresStateStoreTests covers the same for PostgreSQL.)
    static let durable: [StoreKind] = [.sqlite]

    var isDurable: Bool { self == .sqlite }

    /// A fresh, empty, writable store whose files (if any) live in `folder`.
    func makeStore(in folder: TemporaryFolder) async throws -> any StateStore {
        switch self {
        case .inMemory: InMemoryStateStore()
        case .sqlite: try SQLiteStateStore.open(path: folder.statePath)
        case .postgres: try await PostgresStateStore.open(url: try await PostgresStateStoreTests.database())
        }
    }

    /// A read-only store that owns `owned`.
    func makeReadOnlyStore(in folder: TemporaryFolder, owning owned: [AppliedResource]) async throws -> any StateStore {
        switch self {
        case .inMemory:
            return InMemoryStateStore(owned: owned, isReadOnly: true)
        case .postgres:
            let url = try await PostgresStateStoreTests.database()
            let writer = try await PostgresStateStore.open(url: url)
            for resource in owned { try await writer.recordApplied(resource) }
            writer.close()
            return try #require(try await PostgresStateStore.openReadOnly(url: url))
        case .sqlite:
            let writer = try SQLiteStateStore.open(path: folder.statePath)
            for resource in owned { try await writer.recordApplied(resource) }
            try writer.close()
            return try #require(try SQLiteStateStore.openReadOnly(path: folder.statePath))
        }
    }

    /// Opens again what ``makeStore(in:)`` made, writable or not (durable kinds only); nil when there is nothing.
    func reopen(in folder: TemporaryFolder, readOnly: Bool) throws -> (any StateStore)? {
        switch self {
        case .inMemory, .postgres: nil
        case .sqlite:
            readOnly
                ? try SQLiteStateStore.openReadOnly(path: folder.statePath)
                : try SQLiteStateStore.open(path: folder.statePath)
        }
    }

    /// Leaves in `folder` state written by a build that knows one more migration than this one.
    func makeNewerState(in folder: TemporaryFolder, migration: String) async throws {
        switch self {
        case .inMemory, .postgres: Issue.record("covered elsewhere: \(self)")
        case .sqlite:
            let newer = try SQLiteStateStore.open(path: folder.statePath, futureMigrationsForTesting: [migration])
            try await newer.recordApplied(AppliedResource(id: ResourceID(kind: .resourcePool, name: "p"), spec: .null))
            try newer.close()
        }
    }

    /// Closes a store's connections, where it has any.
    func close(_ store: any StateStore) throws {
        if let store = store as? SQLiteStateStore { try store.close() }
        if let store = store as? PostgresStateStore { store.close() }
    }
}

/// A folder of its own for one test, removed when the test is done with it.
final class TemporaryFolder: Sendable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("setpoint-state-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// Where the tests keep state: `.setpoint/state.db`, as the CLI does by default, so opening creates a folder.
    var statePath: String { url.appendingPathComponent(".setpoint/state.db").path }

    /// Everything in the folder, recursively, as relative paths.
    func contents() -> [String] {
        ((try? FileManager.default.subpathsOfDirectory(atPath: url.path)) ?? []).sorted()
    }
}
