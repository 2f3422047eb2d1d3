import Foundation
public import SetpointExec

/// Keeps the manifests' git work tree at the tip of a remote branch: `git fetch REMOTE BRANCH`, then a fast-forward
/// only. A branch that diverged, local edits in the way, or an unreachable remote leave the work tree as it is (the
/// controller keeps reconciling the commit it has) and are reported; nothing is ever reset or merged by hand.
public struct GitSync: Sendable {
    public var remote: String
    /// The branch to follow; nil follows the one checked out.
    public var branch: String?
    /// The work tree holding the manifests (found from the first manifest path when nil).
    public var workTree: String?
    public var runner: any CommandRunner
    public var timeout: Duration

    public init(
        remote: String,
        branch: String? = nil,
        workTree: String? = nil,
        runner: any CommandRunner = LocalRunner(),
        timeout: Duration = .seconds(60)
    ) {
        self.remote = remote
        self.branch = branch
        self.workTree = workTree
        self.runner = runner
        self.timeout = timeout
    }

    /// The commit a pass reconciles, and who wrote it (the author of a git-driven plan, for four-eyes).
    public struct Head: Sendable, Equatable {
        public var commit: String
        public var authorEmail: String
        public var subject: String
    }

    /// What one sync did.
    public struct Outcome: Sendable {
        /// The remote branch followed (`origin/main`).
        public var followed: String?
        public var head: Head?
        /// The commit before the sync, when a fast-forward moved HEAD.
        public var movedFrom: String?
        /// Why the work tree was not brought to the remote's tip (the pass goes on with `head`).
        public var problem: String?
    }

    /// The top of the work tree that holds `path` (a file or a folder).
    public static func topLevel(of path: String, runner: any CommandRunner = LocalRunner()) async throws -> String {
        var dir = URL(fileURLWithPath: path).standardizedFileURL
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDir), !isDir.boolValue {
            dir.deleteLastPathComponent()
        }
        let out = try await runner.run(
            Command("git", ["-C", dir.path, "rev-parse", "--show-toplevel"], timeout: .seconds(10))
        )
        return out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public func sync(paths: [String]) async -> Outcome {
        var outcome = Outcome()
        let tree: String
        do {
            if let workTree {
                tree = workTree
            } else {
                tree = try await Self.topLevel(of: paths.first ?? ".", runner: runner)
            }
        } catch {
            outcome.problem = "the manifests are not in a git work tree: \(error)"
            return outcome
        }
        func git(_ args: [String]) async throws -> String {
            // No prompts (a remote that asks for a password fails at once), no pager, no editor.
            let out = try await runner.run(
                Command(
                    "git",
                    ["-C", tree] + args,
                    environment: ["GIT_TERMINAL_PROMPT": "0", "GIT_PAGER": "cat", "GIT_EDITOR": "true"],
                    timeout: timeout
                )
            )
            return out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let before = try? await git(["rev-parse", "HEAD"])
        var followed = branch ?? "HEAD"
        do {
            guard let current = try? await git(["symbolic-ref", "--quiet", "--short", "HEAD"]), !current.isEmpty else {
                throw SyncProblem(
                    "the work tree \(tree) has no branch checked out (a detached HEAD): check out "
                        + (self.branch ?? "the branch to follow") + " there"
                )
            }
            let branch = self.branch ?? current
            followed = branch
            guard current == branch else {
                throw SyncProblem(
                    "the work tree \(tree) is on branch \(current), not \(branch): check out \(branch) there"
                )
            }
            _ = try await git(["fetch", "--quiet", "--no-tags", remote, branch])
            let fetched = try await git(["rev-parse", "FETCH_HEAD"])
            if fetched != before {
                // Fast-forward only: a diverged branch or local edits in the way are reported, never forced.
                let isAncestor =
                    (try? await runner.run(
                        Command(
                            "git",
                            ["-C", tree, "merge-base", "--is-ancestor", "HEAD", "FETCH_HEAD"],
                            timeout: timeout
                        ),
                        allowFailure: true
                    ).status) == 0
                guard isAncestor else {
                    throw SyncProblem(
                        "\(branch) in \(tree) has commits that \(remote)/\(branch) does not (they diverged): "
                            + "reconciling \(String((before ?? "?").prefix(12))) until someone reconciles the branches"
                    )
                }
                _ = try await git(["merge", "--ff-only", "--quiet", "FETCH_HEAD"])
            }
        } catch let p as SyncProblem {
            outcome.problem = p.message
        } catch {
            outcome.problem =
                "git could not bring \(tree) to \(remote)/\(followed); reconciling the commit checked out: \(error)"
        }
        if let line = try? await git(["log", "-1", "--format=%H%x00%ae%x00%s"]) {
            let parts = line.split(separator: "\0", omittingEmptySubsequences: false).map(String.init)
            if parts.count == 3 { outcome.head = Head(commit: parts[0], authorEmail: parts[1], subject: parts[2]) }
        }
        outcome.followed = "\(remote)/\(followed)"
        if let before, let now = outcome.head?.commit, now != before { outcome.movedFrom = before }
        return outcome
    }

    struct SyncProblem: Error {
        var message: String
        init(_ message: String) { self.message = message }
    }
}
