import ArgumentParser
import Foundation
import SetpointCore
import SetpointState

/// `--state PATH|URL`, shared by the commands that read or write state.
struct StateOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The state: an SQLite file, or a PostgreSQL database (postgres://USER@HOST:PORT/DB) that several controllers can share. "
                + "The password comes from --state-password-file, PGPASSWORD, PGPASSFILE or ~/.pgpass, never the URL (a URL's password "
                + "shows in ps and unit files: it is used, with a warning). Plan opens it read-only and writes nothing.",
            valueName: "PATH|URL"
        )
    )
    var state: String = ".setpoint/state.db"

    @Option(
        name: .customLong("state-password-file"),
        help: ArgumentHelp(
            "A file holding the PostgreSQL state's password (one line; SETPOINT_STATE_PASSWORD_FILE sets it too).",
            valueName: "FILE"
        )
    )
    var statePasswordFile: String?

    @Option(
        name: .customLong("audit-anchor"),
        help: ArgumentHelp(
            "A file, kept apart from the state, that every audit append moves to the log's head: 'audit verify' then detects records "
                + "cut off the end, and appends refuse a log that no longer matches it (SETPOINT_AUDIT_ANCHOR sets it too).",
            valueName: "FILE"
        )
    )
    var auditAnchor: String?

    @Option(
        name: .customLong("anchor-key"),
        help: ArgumentHelp(
            "HMAC key that signs the audit anchor: env:NAME or file:/path (the plan signing key may serve; SETPOINT_ANCHOR_KEY sets it too).",
            valueName: "REF"
        )
    )
    var anchorKey: String?

    /// Opens the state for writing (creating and migrating it), with the audit anchor when one is configured.
    /// - Parameter planKey: the plan signing key (`--sign-key`), which signs the anchor when `--anchor-key` is not given.
    func open(_ console: Console, planKey: String? = nil) async throws -> any StateStore {
        let store: any StateStore =
            PostgresStateStore.isURL(state)
            ? try await PostgresStateStore.open(url: state, password: try password(console))
            : try SQLiteStateStore.open(path: state)
        if let anchor = try anchor(console, planKey: planKey), let tailed = store as? any AuditTailed {
            tailed.tail.anchor = anchor
        }
        return store
    }

    /// The audit anchor, when `--audit-anchor` or SETPOINT_AUDIT_ANCHOR names one; signed with `--anchor-key`
    /// (SETPOINT_ANCHOR_KEY), else the plan signing key when the command has one.
    func anchor(_ console: Console, planKey: String? = nil) throws -> AuditAnchor? {
        let environment = ProcessInfo.processInfo.environment.merging(console.environment) { _, mine in mine }
        guard let path = auditAnchor ?? environment["SETPOINT_AUDIT_ANCHOR"], !path.isEmpty else { return nil }
        var key: [UInt8]?
        if let reference = anchorKey ?? environment["SETPOINT_ANCHOR_KEY"] ?? planKey {
            let secret = try SecretReference(
                option: anchorKey != nil ? "--anchor-key" : "SETPOINT_ANCHOR_KEY (or --sign-key)",
                reference
            )
            key = Array(try (CLIRuntime.current ?? .shipped).secrets.resolve(secret).utf8)
        }
        return AuditAnchor(path: path, key: key)
    }

    /// Opens existing state read-only; nil when there is none yet.
    func openReadOnly(_ console: Console) async throws -> (any StateStore)? {
        guard PostgresStateStore.isURL(state) else { return try SQLiteStateStore.openReadOnly(path: state) }
        return try await PostgresStateStore.openReadOnly(url: state, password: try password(console))
    }

    /// Where the state is, for messages (a URL without its password).
    var location: String { PostgresStateStore.isURL(state) ? PostgresStateStore.redacted(state) : state }

    /// The password file's contents (its last line break dropped), when one is given; a warning when the URL itself
    /// carries a password, which this process then hides from its own command line (as the MySQL client does).
    func password(_ console: Console) throws -> String? {
        if PostgresStateStore.hasPassword(state) {
            console.err(
                "warning: the --state URL carries a password, which shows in ps, shell history and unit files: "
                    + "remove it from the URL and use --state-password-file, PGPASSFILE or ~/.pgpass\n"
            )
            CommandLineScrubber.hidePasswords(in: state)
        }
        guard
            let file = statePasswordFile ?? console.environment["SETPOINT_STATE_PASSWORD_FILE"]
                ?? ProcessInfo.processInfo.environment["SETPOINT_STATE_PASSWORD_FILE"]
        else {
            return nil
        }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ValidationError(
                "--state-password-file \(file) cannot be read: check the path and that this user may read it"
            )
        }
        var text = String(decoding: data, as: UTF8.self)
        while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
        guard !text.isEmpty, !text.contains("\n") else {
            throw ValidationError("--state-password-file \(file) must hold the password on one line")
        }
        return text
    }
}

/// Overwrites, in this process's own memory, the password of a URL given on its command line, so that `ps` and
/// `/proc/PID/cmdline` show `postgres://user:***@…` from now on.
enum CommandLineScrubber {
    static func hidePasswords(in url: String) {
        guard let c = URLComponents(string: url) else { return }
        if let password = c.percentEncodedPassword, !password.isEmpty { hide(":\(password)@", keeping: 1, 1) }
        for item in c.percentEncodedQueryItems ?? [] where item.name == "password" {
            if let value = item.value, !value.isEmpty { hide("password=\(value)", keeping: 9, 0) }
        }
    }

    /// Stars the bytes of `text`, but for `prefix` bytes at its start and `suffix` at its end, wherever it appears on
    /// the command line.
    private static func hide(_ text: String, keeping prefix: Int, _ suffix: Int) {
        let needle = Array(text.utf8)
        for i in 0..<Int(CommandLine.argc) {
            guard let arg = CommandLine.unsafeArgv[i] else { continue }
            let length = strlen(arg)
            guard length >= needle.count else { continue }
            var start = 0
            while start + needle.count <= length {
                var matches = true
                for j in 0..<needle.count where UInt8(bitPattern: arg[start + j]) != needle[j] {
                    matches = false
                    break
                }
                if matches {
                    for j in prefix..<(needle.count - suffix) { arg[start + j] = CChar(UInt8(ascii: "*")) }
                    start += needle.count
                } else {
                    start += 1
                }
            }
        }
    }
}

/// Options that shape a plan.
struct PlanShapeOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp("Limit the plan to a resource and what it depends on (repeatable).", valueName: "KIND/NAME")
    )
    var target: [String] = []

    @Flag(name: .long, help: "Plan deletes for owned resources no manifest declares (risky: they need approval).")
    var prune = false

    func targets() throws -> [SetpointCore.ResourceID] {
        try target.map { text in
            guard let id = SetpointCore.ResourceID(parsing: text) else {
                throw ValidationError("--target '\(text)' is not KIND/NAME")
            }
            return id
        }
    }
}
