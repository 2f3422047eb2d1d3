import Foundation

/// The rows a statement returned, as text (PostgreSQL's text format), with typed accessors.
public struct PGResult: Sendable {
    public var columns: [String]
    public var rows: [[String?]]
    /// `SELECT 2`, `ALTER SYSTEM`, `SHOW` …
    public var commandTag: String

    public var count: Int { rows.count }

    /// Rows with access by column name.
    public var records: [PGRow] { rows.map { PGRow(columns: columns, values: $0) } }

    public var first: PGRow? { rows.first.map { PGRow(columns: columns, values: $0) } }
}

/// One row.
public struct PGRow: Sendable {
    public let columns: [String]
    public let values: [String?]

    /// The text of a column, nil when NULL or absent.
    public subscript(_ column: String) -> String? {
        guard let i = columns.firstIndex(of: column) else { return nil }
        return values[i]
    }

    public func int(_ column: String) -> Int? { self[column].flatMap { Int($0) } }
    public func int64(_ column: String) -> Int64? { self[column].flatMap { Int64($0) } }
    public func double(_ column: String) -> Double? { self[column].flatMap { Double($0) } }
    /// PostgreSQL's `t`/`f` (also `on`/`off`, `true`/`false` from SHOW).
    public func bool(_ column: String) -> Bool? {
        switch self[column] {
        case "t", "true", "on", "1": true
        case "f", "false", "off", "0": false
        default: nil
        }
    }
}

/// Quoting for the few places SQL cannot take parameters (identifiers; `ALTER SYSTEM` values). Manifest values never
/// reach SQL any other way.
public enum PGQuote {
    /// `"name"` with embedded quotes doubled. Refuses NUL.
    public static func identifier(_ name: String) throws -> String {
        guard !name.contains("\0"), !name.isEmpty else { throw PGQuoteError(text: name) }
        return "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// A string literal that means the same whatever `standard_conforming_strings` says: `'…'` with quotes doubled,
    /// or `E'…'` with backslashes doubled too when there is one. Refuses NUL.
    public static func literal(_ value: String) throws -> String {
        guard !value.contains("\0") else { throw PGQuoteError(text: value) }
        let quoted = value.replacingOccurrences(of: "'", with: "''")
        if value.contains("\\") { return "E'" + quoted.replacingOccurrences(of: "\\", with: "\\\\") + "'" }
        return "'" + quoted + "'"
    }
}

public struct PGQuoteError: Error, Sendable, CustomStringConvertible {
    public var text: String
    public var description: String { "cannot quote an empty name or a value holding a NUL byte for SQL" }
}
