import Foundation
import SetpointCore

/// The lines Setpoint keeps in a member's `pg_hba.conf`: a marked block at the top of the file (pg_hba.conf is read
/// top down, first match wins, so an earlier `reject` cannot shadow them) letting every member's address replicate as
/// the replication user and connect as Setpoint's user (pg_rewind's source connection), with scram-sha-256.
/// Everything outside the markers is left exactly as it is.
struct HbaBlock: Sendable, Equatable {
    let cluster: String
    let lines: [String]

    init(_ settings: ClusterSettings) {
        cluster = settings.name
        var seen = Set<String>()
        let addresses = settings.members.compactMap { m -> String? in
            guard m.conninfo == nil, let host = m.host, !host.hasPrefix("/") else { return nil }
            return Self.address(host)
        }.filter { seen.insert($0).inserted }
        lines = addresses.flatMap { a in
            [
                "host    replication    \(Self.quoted(settings.replicationUser))    \(a)    scram-sha-256",
                "host    \(Self.quoted(settings.database))    \(Self.quoted(settings.user))    \(a)    scram-sha-256",
            ]
        }
    }

    /// An address as pg_hba.conf takes it: one IP as a /32 or /128, a name as it is.
    static func address(_ host: String) -> String {
        if host.contains(":") { return host.contains("/") ? host : host + "/128" }
        let parts = host.split(separator: ".")
        if parts.count == 4, parts.allSatisfy({ UInt8($0) != nil }) { return host + "/32" }
        return host
    }

    /// A user or database name as pg_hba.conf reads it: double-quoted unless plain.
    static func quoted(_ name: String) -> String {
        name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) && name == name.lowercased()
            ? name : "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    var begin: String {
        "# BEGIN Setpoint PostgresCluster/\(cluster): replication between its members. Managed by Setpoint: edits "
            + "between these markers are overwritten (spec.replication.pgHba)."
    }
    var end: String { "# END Setpoint PostgresCluster/\(cluster)" }

    var text: String { ([begin] + lines + [end]).joined(separator: "\n") + "\n" }

    /// The block as the file holds it now (nil: no markers).
    func current(in file: String) -> String? {
        guard let range = range(in: file) else { return nil }
        return String(file[range])
    }

    /// The file with this block at its top and no other copy of it; the rest as it was.
    func applied(to file: String) -> String {
        var rest = file
        while let range = range(in: rest) { rest.removeSubrange(range) }
        return text + rest
    }

    /// From the begin marker's line to the end of the end marker's line.
    func range(in file: String) -> Range<String.Index>? {
        let marker = "# BEGIN Setpoint PostgresCluster/\(cluster):"
        guard let start = file.range(of: marker),
            start.lowerBound == file.startIndex || file[file.index(before: start.lowerBound)] == "\n",
            let stop = file.range(of: end, range: start.upperBound..<file.endIndex)
        else { return nil }
        let after =
            file[stop.upperBound...].first == "\n" ? file.index(after: stop.upperBound) : stop.upperBound
        return start.lowerBound..<after
    }
}
