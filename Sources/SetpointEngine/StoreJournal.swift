public import SetpointCore
public import SetpointState

/// An action's journal in the state store.
///
/// By convention a provider that reserves the object's id before creating it records it under `providerID`: a
/// later plan then finds the object by that id even though the interrupted apply never recorded it as owned.
public struct StoreJournal: ActionJournal {
    public static let providerIDKey = "providerID"

    public let store: any JournalStore
    public let action: ActionID

    public init(store: any JournalStore, action: ActionID) {
        self.store = store
        self.action = action
    }

    public func entries() async throws -> [String: String] { try await store.journalEntries(action: action) }
    public func record(_ key: String, _ value: String) async throws {
        try await store.recordJournal(action: action, key: key, value: value)
    }
}
