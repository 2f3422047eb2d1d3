import Foundation
import SetpointCore
import SetpointExec
import SetpointRemote

/// The `[databases]` file a ConnectionPool owns: rendered deterministically, read back, written atomically with the
/// previous version kept beside it (`FILE.previous`).
enum PoolFile {
    static func render(pool: String, routes: [String: PoolRoute], iniFile: String) -> String {
        var text =
            "; Managed by Setpoint (ConnectionPool/\(pool)): the next apply rewrites this file; change the manifest instead.\n"
        text += "; \(iniFile) %includes it in its [databases] section.\n"
        for name in routes.keys.sorted() { text += routes[name]!.line(name: name) + "\n" }
        return text
    }

    /// The entries of a databases file, by name (`key=value` pairs, values unquoted).
    static func parse(_ text: String) -> [String: [String: String]] {
        var out: [String: [String: String]] = [:]
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty, !line.hasPrefix(";"), !line.hasPrefix("#"), !line.hasPrefix("["),
                let eq = line.firstIndex(of: "=")
            else { continue }
            let name = unquote(line[..<eq].trimmingCharacters(in: .whitespaces))
            var pairs: [String: String] = [:]
            for token in tokens(String(line[line.index(after: eq)...])) {
                guard let e = token.firstIndex(of: "=") else { continue }
                pairs[String(token[..<e])] = unquote(String(token[token.index(after: e)...]))
            }
            out[name] = pairs
        }
        return out
    }

    static func unquote(_ s: String) -> String {
        guard s.count >= 2, s.hasPrefix("\""), s.hasSuffix("\"") else { return s }
        return String(s.dropFirst().dropLast()).replacingOccurrences(of: "\"\"", with: "\"")
    }

    /// Splits on spaces outside double quotes.
    static func tokens(_ s: String) -> [String] {
        var out: [String] = []
        var current = ""
        var quoted = false
        for c in s {
            if c == "\"" { quoted.toggle() }
            if c == " " && !quoted {
                if !current.isEmpty { out.append(current) }
                current = ""
            } else {
                current.append(c)
            }
        }
        if !current.isEmpty { out.append(current) }
        return out
    }

    /// A route as a file entry says it (nil when the entry lacks host or port).
    static func route(_ entry: [String: String]) -> PoolRoute? {
        guard let host = entry["host"], let port = entry["port"].flatMap(Int.init) else { return nil }
        return PoolRoute(
            host: host,
            port: port,
            dbname: entry["dbname"] ?? "",
            user: entry["user"],
            poolSize: entry["pool_size"].flatMap(Int.init),
            reservePool: entry["reserve_pool"].flatMap(Int.init),
            maxDbConnections: entry["max_db_connections"].flatMap(Int.init),
            poolMode: entry["pool_mode"]
        )
    }

    /// PgBouncer's host's files, acting as the owner of the databases file (or of its folder, for a first write) when
    /// that is not root: PgBouncer's OS user, which the sudoers line of `docs/hosts.md` lets Setpoint become.
    static func files(
        _ pool: ConnectionPoolSpec.PgBouncer,
        context: ProviderContext,
        resource: ResourceID
    ) async throws
        -> any HostFiles
    {
        try await context.host(pool.runsOn, for: resource).filesOwning(pool.databasesFile)
    }

    static func read(_ path: String, files: any HostFiles) async throws -> String? {
        do { return try await files.read(path) } catch { throw PoolError("\(error)") }
    }

    /// Writes `text` to `path` atomically (a temporary file in the same directory, fsync, rename), first keeping what
    /// was there as `path.previous`. Readable by all (it holds no secret): PgBouncer runs as another user.
    static func store(_ text: String, at path: String, files: any HostFiles) async throws {
        if let old = try await read(path, files: files) {
            try await replace(path + ".previous", with: old, files: files)
        }
        try await replace(path, with: text, files: files)
    }

    /// Restores `path.previous` (after a RELOAD that failed).
    static func restorePrevious(_ path: String, files: any HostFiles) async throws {
        if let old = try await read(path + ".previous", files: files) {
            try await replace(path, with: old, files: files)
        }
    }

    static func replace(_ path: String, with text: String, files: any HostFiles) async throws {
        do { try await files.write(text, to: path, mode: 0o644, private: false) } catch { throw PoolError("\(error)") }
    }
}
