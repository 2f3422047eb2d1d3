import Foundation

/// What a file is: its size, permission bits, owner, and whether it is a folder.
public struct FileFacts: Sendable, Equatable {
    public var size: Int64
    /// Permission bits (`0o640`).
    public var mode: Int
    public var owner: String
    public var isDirectory: Bool

    public init(size: Int64, mode: Int, owner: String, isDirectory: Bool) {
        self.size = size
        self.mode = mode
        self.owner = owner
        self.isDirectory = isDirectory
    }
}

/// A host's files as providers reach them — on this machine (``LocalFiles``) or over SSH (``SSHFiles``) — through the
/// same five operations, so a provider never cares where its service runs.
public protocol HostFiles: Sendable {
    /// Where the files are, for messages (`this machine`, `pg-2 (10.0.0.12:22)`).
    var hostName: String { get }
    /// The file's text; nil when there is no such file.
    func read(_ path: String) async throws -> String?
    /// nil when there is no such file or folder.
    func stat(_ path: String) async throws -> FileFacts?
    /// The names in a folder (`.` and `..` left out); nil when there is no such folder.
    func list(_ directory: String) async throws -> [String]?
    /// Replaces the file so readers see the old text or the new, never a part. A replaced file keeps its owner, group
    /// and mode; a new one gets `mode`. `private`: the file holds secrets, so others get no permission at all.
    func write(_ text: String, to path: String, mode: Int, private: Bool) async throws
    /// Removes the file; one that is not there is fine.
    func remove(_ path: String) async throws
    /// Renames a file or folder within one file system (a data directory moved aside); the target must not exist.
    func move(_ path: String, to target: String) async throws
    /// The same files reached as another OS user (`postgres` for a data directory only it may read): over SSH through
    /// `sudo -n -u USER`; on this machine as this process, which a service's files already admit.
    func acting(as user: String?) -> any HostFiles
}

/// A host file operation that failed, naming the host and the path and quoting why.
public struct HostFileFailure: Error, Sendable, CustomStringConvertible {
    public var host: String
    public var path: String
    public var reason: String
    public var description: String { "\(host): \(path): \(reason)" }

    public init(host: String, path: String, reason: String) {
        self.host = host
        self.path = path
        self.reason = reason
    }
}

/// This machine's files; each operation on a thread of its own (file I/O never blocks Swift's cooperative pool).
public struct LocalFiles: HostFiles {
    public init() {}
    public var hostName: String { "this machine" }
    public func acting(as user: String?) -> any HostFiles { self }

    func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await onOwnThread("setpoint-files", body)
    }

    /// nil when the path does not exist; a failure (a folder on the way that may not be searched …) otherwise, so
    /// a file that cannot be seen is never taken for one that is not there.
    static func lstatOrAbsent(_ path: String) throws -> Glibc.stat? {
        var st = Glibc.stat()
        if lstat(path, &st) == 0 { return st }
        if errno == ENOENT || errno == ENOTDIR { return nil }
        throw HostFileFailure(host: "this machine", path: path, reason: String(cString: strerror(errno)))
    }

    public func read(_ path: String) async throws -> String? {
        try await blocking {
            guard try Self.lstatOrAbsent(path) != nil else { return nil }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw HostFileFailure(
                    host: "this machine",
                    path: path,
                    reason: "cannot be read: \(String(cString: strerror(errno)))"
                )
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw HostFileFailure(host: "this machine", path: path, reason: "is not UTF-8 text")
            }
            return text
        }
    }

    public func stat(_ path: String) async throws -> FileFacts? {
        try await blocking {
            guard let st = try Self.lstatOrAbsent(path) else { return nil }
            let owner = getpwuid(st.st_uid).map { String(cString: $0.pointee.pw_name) } ?? String(st.st_uid)
            return FileFacts(
                size: Int64(st.st_size),
                mode: Int(st.st_mode & 0o7777),
                owner: owner,
                isDirectory: (st.st_mode & S_IFMT) == S_IFDIR
            )
        }
    }

    public func list(_ directory: String) async throws -> [String]? {
        try await blocking {
            guard let st = try Self.lstatOrAbsent(directory), (st.st_mode & S_IFMT) == S_IFDIR else { return nil }
            return try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        }
    }

    public func write(_ text: String, to path: String, mode: Int, private: Bool) async throws {
        try await blocking {
            do { try AtomicFile.write(text, to: path, mode: mode_t(mode), private: `private`) } catch {
                throw HostFileFailure(host: "this machine", path: path, reason: "\(error)")
            }
        }
    }

    public func remove(_ path: String) async throws {
        try await blocking {
            guard unlink(path) == 0 || errno == ENOENT else {
                throw HostFileFailure(
                    host: "this machine",
                    path: path,
                    reason: "cannot be removed: \(String(cString: strerror(errno)))"
                )
            }
        }
    }

    public func move(_ path: String, to target: String) async throws {
        try await blocking {
            guard access(target, F_OK) != 0 else {
                throw HostFileFailure(host: "this machine", path: target, reason: "is there already")
            }
            guard rename(path, target) == 0 else {
                throw HostFileFailure(
                    host: "this machine",
                    path: path,
                    reason: "cannot be moved to \(target): \(String(cString: strerror(errno)))"
                )
            }
        }
    }
}

/// A host's files over SSH: each operation one short command through the host's runner, with fixed scripts and the
/// paths as arguments (never spliced into the script), and a file's text on stdin (never on a command line).
public struct SSHFiles: HostFiles {
    public let runner: SSHRunner
    /// The OS user the operations run as (`sudo -n -u`); nil: the SSH user.
    public let user: String?
    public init(runner: SSHRunner, user: String? = nil) {
        self.runner = runner
        self.user = user
    }
    public var hostName: String { runner.name }
    public func acting(as user: String?) -> any HostFiles { SSHFiles(runner: runner, user: user) }

    /// Exit status the scripts use for "no such file".
    static let absent: Int32 = 3

    /// Exits 3 when "$1" is not there and the nearest folder above it that is there could be searched (a missing
    /// folder on the way means the file is missing too, as lstat's ENOENT says here); says why and exits 4 when it
    /// cannot be looked at (a file that cannot be seen is never taken for one that is not there).
    static let absentCheck = """
        if [ ! -e "$1" ] && [ ! -L "$1" ]; then
            d=$1
            while d=$(dirname -- "$d") && [ ! -e "$d" ] && [ "$d" != / ]; do :; done
            if [ -d "$d" ] && [ -x "$d" ]; then exit 3; fi
            echo "cannot look into $d" >&2; exit 4
        fi

        """

    func sh(_ script: String, _ arguments: [String], input: String? = nil) async throws -> CommandOutput {
        try await runner.run(
            Command("/bin/sh", ["-c", script, "sh"] + arguments, user: user, timeout: .seconds(60), input: input),
            allowFailure: true
        )
    }

    func failure(_ path: String, _ what: String, _ out: CommandOutput) -> HostFileFailure {
        let said = (out.stderr.isEmpty ? out.stdout : out.stderr).trimmingCharacters(in: .whitespacesAndNewlines)
        return HostFileFailure(host: hostName, path: path, reason: "\(what) (status \(out.status)): \(said)")
    }

    public func read(_ path: String) async throws -> String? {
        let out = try await sh(Self.absentCheck + "exec cat -- \"$1\"", [path])
        if out.status == Self.absent { return nil }
        guard out.status == 0 else { throw failure(path, "cannot be read", out) }
        return out.stdout
    }

    public func stat(_ path: String) async throws -> FileFacts? {
        let out = try await sh(Self.absentCheck + "exec stat -c '%s %a %U %F' -- \"$1\"", [path])
        if out.status == Self.absent { return nil }
        guard out.status == 0 else { throw failure(path, "cannot be examined", out) }
        let parts = out.stdout.trimmingCharacters(in: .newlines).split(separator: " ", maxSplits: 3).map(String.init)
        guard parts.count == 4, let size = Int64(parts[0]), let mode = Int(parts[1], radix: 8) else {
            throw HostFileFailure(host: hostName, path: path, reason: "stat said something unexpected: \(out.stdout)")
        }
        return FileFacts(size: size, mode: mode, owner: parts[2], isDirectory: parts[3] == "directory")
    }

    public func list(_ directory: String) async throws -> [String]? {
        let out = try await sh(
            Self.absentCheck + "[ -d \"$1\" ] || exit 3; exec find \"$1\" -mindepth 1 -maxdepth 1 -printf '%f\\0'",
            [directory]
        )
        if out.status == Self.absent { return nil }
        guard out.status == 0 else { throw failure(directory, "cannot be listed", out) }
        return out.stdout.split(separator: "\0").map(String.init).sorted()
    }

    /// The text on stdin into a temporary file beside the target, owner, group and mode as `AtomicFile` keeps them,
    /// synced, renamed over the target.
    static let writeScript = """
        set -e
        dest=$1 mode=$2 private=$3
        tmp="$dest.setpoint-tmp"
        trap 'rm -f "$tmp"' EXIT
        umask 077
        cat >"$tmp"
        if [ -e "$dest" ]; then
            chown --reference="$dest" "$tmp" 2>/dev/null || true
            chmod --reference="$dest" "$tmp"
            if [ "$private" = 1 ]; then chmod o-rwx "$tmp"; fi
        elif [ "$private" = 1 ]; then
            chmod "$(printf '%o' $((0$mode & 0770)))" "$tmp"
        else
            chmod "$mode" "$tmp"
        fi
        sync "$tmp" 2>/dev/null || true
        mv -f "$tmp" "$dest"
        sync "$(dirname "$dest")" 2>/dev/null || true
        """

    public func write(_ text: String, to path: String, mode: Int, private: Bool) async throws {
        let out = try await sh(
            Self.writeScript,
            [path, String(mode, radix: 8), `private` ? "1" : "0"],
            input: text
        )
        guard out.status == 0 else { throw failure(path, "cannot be written", out) }
    }

    public func remove(_ path: String) async throws {
        let out = try await sh("exec rm -f -- \"$1\"", [path])
        guard out.status == 0 else { throw failure(path, "cannot be removed", out) }
    }

    public func move(_ path: String, to target: String) async throws {
        let out = try await sh(
            "if [ -e \"$2\" ]; then echo \"$2 is there already\" >&2; exit 5; fi; exec mv -T -- \"$1\" \"$2\"",
            [path, target]
        )
        guard out.status == 0 else { throw failure(path, "cannot be moved to \(target)", out) }
    }
}
