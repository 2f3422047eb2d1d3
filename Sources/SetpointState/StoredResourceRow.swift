import SetpointCore

/// One owned resource as a store keeps it (the SQLite and PostgreSQL stores alike): kind, name, provider id, and the
/// spec and dependencies as canonical JSON. Decoding errors name where the state lives.
struct StoredResourceRow: Sendable {
    var kind: String?
    var name: String?
    var providerID: String?
    var spec: String?
    var dependsOn: String?

    /// - Parameters: location: the state's path or URL; table: the table's name, for the message.
    func decode(location: String, table: String) throws -> AppliedResource {
        guard let kind, let name else {
            throw SetpointError(
                .stateFailed,
                "state database \(location) is corrupt: a row of \(table) has no kind or name"
            )
        }
        let id = ResourceID(kind: ResourceKind(kind), name: name)
        do {
            let value = try CanonicalJSONReader.value(from: spec ?? "")
            guard case .list(let items) = try CanonicalJSONReader.value(from: dependsOn ?? "") else {
                throw CanonicalJSONReader.Malformed(offset: 0, reason: "depends_on is not a list")
            }
            let dependencies = try items.map { item in
                guard let text = item.stringValue, let dependency = ResourceID(parsing: text) else {
                    throw CanonicalJSONReader.Malformed(offset: 0, reason: "depends_on holds \(item), not Kind/name")
                }
                return dependency
            }
            return AppliedResource(id: id, providerID: providerID, spec: value, dependsOn: dependencies)
        } catch {
            throw SetpointError(.stateFailed, "state database \(location) is corrupt: \(id): \(error)", resource: id)
        }
    }
}
