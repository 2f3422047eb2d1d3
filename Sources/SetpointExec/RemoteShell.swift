import Foundation

/// How a command reaches a remote host. OpenSSH hands the remote command line to the remote user's login shell
/// (`sh -c`, `bash -c`), so an argv must be quoted for a POSIX shell on the way: every argument is single-quoted, and a
/// `'` inside one is written `'\''`. Nothing of an argument — `$(…)`, backticks, `;`, newlines, globs, `~` — is then
/// interpreted; it arrives byte for byte. A command line is never built from manifest values any other way.
public enum RemoteShell {
    /// An argument a shell cannot carry: NUL ends a C string, so no argv holds one.
    public struct Unquotable: Error, CustomStringConvertible {
        public var index: Int
        public var description: String { "argument \(index) holds a NUL byte, which no command line can carry" }
    }

    /// One argument, single-quoted.
    public static func quote(_ argument: String) -> String {
        "'" + argument.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// The command line a POSIX shell splits back into exactly `argv`.
    public static func commandLine(_ argv: [String]) throws -> String {
        for (i, a) in argv.enumerated() where a.utf8.contains(0) { throw Unquotable(index: i) }
        return argv.map(quote).joined(separator: " ")
    }
}
