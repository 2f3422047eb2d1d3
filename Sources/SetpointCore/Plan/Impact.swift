/// What a change does to the running system, in increasing order of risk.
public enum Impact: String, Sendable, Hashable, Codable, Comparable, CaseIterable {
    /// Applied live, nothing restarts.
    case hot
    /// Written now, takes effect after a restart (PVE pending, `ALTER SYSTEM` of a postmaster parameter).
    case restart
    /// Needs the resource recreated.
    case replace
    /// Destroys data (a removed disk, a re-initialised replica).
    case dataLoss

    private var rank: Int { Impact.allCases.firstIndex(of: self)! }
    public static func < (lhs: Impact, rhs: Impact) -> Bool { lhs.rank < rhs.rank }
}

/// Where a change comes from.
public enum ChangeOrigin: String, Sendable, Hashable, Codable {
    /// Someone edited the desired state.
    case manifest
    /// The system moved away from the last applied state.
    case drift
}
