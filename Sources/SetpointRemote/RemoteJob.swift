import Foundation
public import SetpointCore
public import SetpointExec

/// A long action on a host (`pg_basebackup`, a restore) that outlives the SSH connection and Setpoint itself. It runs
/// detached on the host (its own session, output to a file), under a deadline there (`timeout`), with its PID and then
/// its exit status recorded in a folder of its own on the host. Whoever comes next with the same folder — the same
/// apply after a dropped connection, the next apply after Setpoint was killed — attaches: it waits for the one that
/// runs, or takes the status it left, and never starts a second copy.
///
/// A secret the command needs (a libpq passfile) is written into the folder (0600, the command's user's) and removed
/// by the host-side wrapper the moment the command ends, whoever is watching.
public struct RemoteJob: Sendable {
    public let access: HostAccess
    /// The job's folder on the host (created 0700 by `user`; its parent must be writable by that user).
    public let folder: String
    /// The OS user the command runs as (through `sudo -n -u` there, `runuser` here).
    public let user: String?

    public init(access: HostAccess, folder: String, user: String?) {
        self.access = access
        self.folder = folder
        self.user = user
    }

    /// Where a secret for the command is, while it runs.
    public var secretFile: String { folder + "/secret" }

    public enum State: Sendable, Equatable {
        /// No job folder: nothing was started.
        case none
        case running(pid: Int)
        case finished(status: Int32)
        /// Started, but its process is gone without a status (the host rebooted, or it was killed with its wrapper).
        case lost
    }

    /// Starts the command detached; prints its PID. Refuses (status 5) when the folder exists: someone started it.
    /// Until the PID is recorded, a failure removes the folder (and the secret in it): a half-started job never reads
    /// as running. The PID is kept with its start time (field 22 of /proc/PID/stat), which tells a reused PID apart.
    static let startScript = """
        set -e
        folder=$1 seconds=$2 secret=$3
        shift 3
        umask 077
        mkdir -p -- "$(dirname -- "$folder")"
        if ! mkdir -- "$folder" 2>/dev/null; then
            [ -d "$folder" ] && exit 5
            mkdir -- "$folder"
        fi
        trap 'rm -rf -- "$folder"' EXIT
        cd -- "$folder"
        if [ "$secret" = 1 ]; then cat >secret; else cat >/dev/null; fi
        : >out
        setsid /bin/sh -c '
            timeout --kill-after=10 "$0" "$@" >out 2>&1 </dev/null
            s=$?
            rm -f secret
            echo "$s" >status.tmp && mv status.tmp status
        ' "$seconds" "$@" </dev/null >/dev/null 2>&1 &
        pid=$!
        echo "$pid $(cut -d' ' -f22 "/proc/$pid/stat")" >pid.tmp && mv pid.tmp pid
        trap - EXIT
        echo "$pid"
        """

    /// Shared by the state and wait scripts: `alive` says whether the recorded PID is still the job's process.
    static let liveness = """
        alive() {
            set -- $(cat "$folder/pid" 2>/dev/null)
            [ -n "$1" ] && [ "$(cut -d' ' -f22 "/proc/$1/stat" 2>/dev/null)" = "$2" ]
        }

        """

    /// Prints `none`, `running PID`, `finished STATUS` or `lost`.
    static let stateScript =
        liveness + """
            folder=$1
            [ -d "$folder" ] || { echo none; exit 0; }
            if [ -f "$folder/status" ]; then echo "finished $(cat "$folder/status")"; exit 0; fi
            if alive; then echo "running $(cut -d' ' -f1 "$folder/pid")"; exit 0; fi
            # The status may have landed between the two looks.
            if [ -f "$folder/status" ]; then echo "finished $(cat "$folder/status")"; exit 0; fi
            echo lost
            """

    /// Waits for the job to end; prints what `stateScript` prints once it has.
    static let waitScript =
        liveness + """
            folder=$1
            while :; do
                [ -d "$folder" ] || { echo none; exit 0; }
                if [ -f "$folder/status" ]; then echo "finished $(cat "$folder/status")"; exit 0; fi
                if ! alive && [ ! -f "$folder/status" ]; then echo lost; exit 0; fi
                sleep 0.2
            done
            """

    func sh(
        _ script: String,
        _ arguments: [String],
        timeout: Duration,
        input: String? = nil
    ) async throws
        -> CommandOutput
    {
        try await access.runner.run(
            Command("/bin/sh", ["-c", script, "sh"] + arguments, user: user, timeout: timeout, input: input),
            allowFailure: true
        )
    }

    static func parse(_ text: String) -> State? {
        let words = text.split(whereSeparator: \.isWhitespace)
        switch (words.first, words.dropFirst().first) {
        case ("none"?, nil): return State.none
        case ("lost"?, nil): return .lost
        case ("running"?, let pid?): return Int(pid).map { .running(pid: $0) }
        case ("finished"?, let status?): return Int32(status).map { .finished(status: $0) }
        default: return nil
        }
    }

    public func state() async throws -> State {
        let out = try await sh(Self.stateScript, [folder], timeout: .seconds(30))
        guard out.status == 0, let state = Self.parse(out.stdout) else {
            throw failure("its state could not be read (status \(out.status)): \(out.stderr)\(out.stdout)")
        }
        return state
    }

    func failure(_ what: String) -> CommandFailure {
        CommandFailure(
            command: Command("/bin/sh", ["(job \(folder))"], user: user),
            status: nil,
            output: "",
            reason: "on \(access.name): \(what)"
        )
    }

    /// Runs `command` as this job — or attaches to the one already there — and returns once it has ended: its status
    /// and output (throws `CommandFailure` quoting them when it failed, is lost, or outlived `deadline`).
    /// - Parameters:
    ///   - secret: written to `secretFile` before the command starts; removed on the host when it ends.
    ///   - started: called with the PID of a job this call started (to journal it).
    @discardableResult
    public func run(
        _ command: Command,
        deadline: Duration,
        secret: String? = nil,
        started: (Int) async throws -> Void = { _ in }
    ) async throws -> CommandOutput {
        if case .none = try await state() {
            let seconds = String(max(1, Int(deadline.components.seconds)))
            let out = try await sh(
                Self.startScript,
                [folder, seconds, secret == nil ? "0" : "1", command.executable] + command.arguments,
                timeout: .seconds(60),
                input: secret ?? ""
            )
            if out.status == 0, let pid = Int(out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) {
                try await started(pid)
            } else if out.status != 5 {
                throw CommandFailure(
                    command: command,
                    status: out.status,
                    output: out.stderr + out.stdout,
                    reason: "could not be started on \(access.name) (job \(folder))"
                )
            }
        }
        // Attach: the wait is bounded by the job's own deadline, plus the wrapper's kill grace.
        let waited = try await sh(Self.waitScript, [folder], timeout: deadline + .seconds(30))
        guard waited.status == 0, let end = Self.parse(waited.stdout) else {
            throw CommandFailure(
                command: command,
                status: nil,
                output: waited.stderr + waited.stdout,
                reason:
                    "was left running on \(access.name) (job \(folder)): the wait for it ended (status \(waited.status)); the next apply attaches to it"
            )
        }
        let output = (try? await access.files.acting(as: user).read(folder + "/out")) ?? nil
        if end != .finished(status: 0) {
            // What it said is read; the folder goes, so that the next run starts over (a partial copy is refused by
            // the caller's own checks), and a lost job's secret goes with it.
            try? await clear()
        }
        switch end {
        case .finished(let status) where status == 0:
            // The caller times the whole job (it may have started in an earlier run).
            return CommandOutput(status: 0, stdout: output ?? "", stderr: "", duration: .zero)
        case .finished(let status):
            throw CommandFailure(
                command: command,
                status: status,
                output: output ?? "",
                reason: status == 124 || status == 137
                    ? "timed out after \(deadline) on \(access.name) (job \(folder))"
                    : "exited with status \(status) on \(access.name) (job \(folder))"
            )
        case .none:
            throw CommandFailure(
                command: command,
                status: nil,
                output: "",
                reason:
                    "on \(access.name): its job folder \(folder) went away while it was awaited (removed by someone else)"
            )
        default:
            throw CommandFailure(
                command: command,
                status: nil,
                output: output ?? "",
                reason:
                    "ended on \(access.name) without recording a status (job \(folder): the host restarted, or it was killed)"
            )
        }
    }

    /// Removes the job's folder (once what it made is in use, or to start over after a failure).
    public func clear() async throws {
        let out = try await access.runner.run(
            Command("/bin/rm", ["-rf", "--", folder], user: user, timeout: .seconds(60)),
            allowFailure: true
        )
        guard out.status == 0 else { throw failure("its folder could not be removed: \(out.stderr)") }
    }
}
