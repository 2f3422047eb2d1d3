extension Value {
    /// The value with `keys` (a path of map keys) set, creating maps on the way.
    public func setting(_ keys: [String], to newValue: Value) -> Value {
        guard let first = keys.first else { return newValue }
        var m: [String: Value] = { if case .map(let m) = self { return m } else { return [:] } }()
        m[first] = (m[first] ?? .map([:])).setting(Array(keys.dropFirst()), to: newValue)
        return .map(m)
    }

    /// The value with the entry at `keys` removed.
    public func removing(_ keys: [String]) -> Value {
        guard let first = keys.first, case .map(var m) = self else { return self }
        if keys.count == 1 {
            m.removeValue(forKey: first)
        } else if let child = m[first] {
            m[first] = child.removing(Array(keys.dropFirst()))
        }
        return .map(m)
    }
}
