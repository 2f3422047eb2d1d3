import CSetpointSys
import Foundation

/// Starts child processes with `posix_spawn`, giving each exactly the descriptors it is meant to have: its standard
/// input, output and error, and nothing else. Every other descriptor of this process — a pipe another thread is
/// reading, a database file, a listening socket — is closed in the child (`closefrom(3)`), so a child never holds a
/// pipe open that some other reader waits on, and a daemon it starts keeps nothing of ours.
public enum Spawn {
    /// Where a standard stream of the child comes from or goes to.
    public enum Stream: Sendable {
        /// `/dev/null`.
        case null
        /// A file, opened in the child (`append` for output keeps what is there; otherwise it is truncated).
        case file(String, append: Bool = false)
        /// A descriptor of this process (a pipe end), duplicated onto the stream.
        case descriptor(Int32)
        /// The same as this process's own.
        case inherit
    }

    /// What to start.
    public struct Request: Sendable {
        /// argv; `argv[0]` is the program: an absolute path, or a name looked up on PATH through `/usr/bin/env`.
        public var argv: [String]
        /// The whole environment of the child.
        public var environment: [String: String]
        public var stdin: Stream = .null
        public var stdout: Stream = .null
        public var stderr: Stream = .null
        /// In a process group of its own (a timeout can then end it and what it started in the foreground).
        public var newProcessGroup = false

        public init(
            argv: [String],
            environment: [String: String],
            stdin: Stream = .null,
            stdout: Stream = .null,
            stderr: Stream = .null,
            newProcessGroup: Bool = false
        ) {
            self.argv = argv
            self.environment = environment
            self.stdin = stdin
            self.stdout = stdout
            self.stderr = stderr
            self.newProcessGroup = newProcessGroup
        }
    }

    /// Why a child could not be started.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var program: String
        public var errno: Int32
        public var description: String { "could not start \(program): \(String(cString: strerror(errno)))" }
    }

    /// Starts the child and returns its PID; reaping it (`waitpid`) is the caller's.
    public static func start(_ request: Request) throws -> pid_t {
        precondition(!request.argv.isEmpty, "argv needs a program")
        let argv = request.argv[0].contains("/") ? request.argv : ["/usr/bin/env"] + request.argv
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (fd, stream) in [(Int32(0), request.stdin), (1, request.stdout), (2, request.stderr)] {
            switch stream {
            case .null: posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0)
            case .file(let path, let append):
                let flags = fd == 0 ? O_RDONLY : O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC)
                posix_spawn_file_actions_addopen(&actions, fd, path, flags, 0o600)
            case .descriptor(let source): posix_spawn_file_actions_adddup2(&actions, source, fd)
            case .inherit: break
            }
        }
        let closing = setpoint_spawn_closefrom(&actions, 3)
        guard closing == 0 else { throw Failure(program: argv[0], errno: closing) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The child starts with default signal handling and an empty mask, whatever this process ignores or blocks
        // (a process that ignores SIGTERM would otherwise hand that on).
        var defaults = sigset_t()
        sigfillset(&defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var flags = Int32(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)
        if request.newProcessGroup {
            flags |= Int32(POSIX_SPAWN_SETPGROUP)
            posix_spawnattr_setpgroup(&attributes, 0)
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))

        var cArgs = argv.map { strdup($0) } + [nil]
        var cEnv = request.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            cArgs.forEach { free($0) }
            cEnv.forEach { free($0) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, &attributes, &cArgs, &cEnv)
        guard spawned == 0 else { throw Failure(program: request.argv[0], errno: spawned) }
        return pid
    }

    /// A pipe whose ends no other child inherits: `(read, write)`.
    public static func pipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        guard setpoint_pipe_cloexec(&fds) == 0 else { throw Failure(program: "pipe", errno: errno) }
        return (fds[0], fds[1])
    }

    /// An exit status as a shell shows it: the code, or 128 + the signal that ended the child.
    public static func exitStatus(_ status: Int32) -> Int32 {
        (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }
}
