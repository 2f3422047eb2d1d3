import Foundation
import SetpointTesting
import Testing

/// The pipelines in examples/ci, run by scripts/ci-example-run.py against pve-sim: every job's steps verbatim, on this
/// machine instead of a container. A pull request validates, plans (exit code 2), posts the text plan as its comment
/// and keeps the JSON plan; a push to the default branch applies the saved plan, and the next push plans no changes; a
/// broken manifest fails validate, and the runner names the job and the step. The build job is not run (a cold release
/// build takes minutes): this build's `setpoint` stands for its artifact, and the runner checks its apt-get line
/// against Package.swift instead, and every runtime job's against the binary's shared libraries. The jobs' apt-get
/// steps run for real, so this needs root; one pipeline at a time (apt and dpkg take a lock).
@Suite(
    .timeLimit(.minutes(5)),
    .serialized,
    .enabled("needs root, apt-get, dpkg, ldd, git and python3 with PyYAML and jsonschema") {
        await CIPipeline.toolsPresent() || ExternalTool.isCI
    }
)
struct CIExampleTests {
    @Test(arguments: CIPipeline.files)
    func aPullRequestPlansAndCommentsAndAPushAppliesTheSavedPlan(_ file: String) async throws {
        let env = try await SimEnv()
        defer { Task { await env.stop() } }
        let pipeline = try await CIPipeline.make(env, file: file, documents: [ControllerTests.vm(cores: 2)])

        // A pull request: validate, plan with exit code 2 (one VM to create), the text plan as the comment, the JSON
        // plan kept as an artifact. Nothing changes, and plan writes no state.
        let pr = try await pipeline.run(event: "pull_request", branch: "web-1", tag: "pr")
        #expect(pr.status == 0, "\(pr.output)")
        #expect(pr.job("build")?["provided"] as? Bool == true)
        let checks = pr.report["checks"] as? [[String: Any]] ?? []
        #expect(checks.count == 2 && checks.allSatisfy { $0["ok"] as? Bool == true }, "\(checks)")
        #expect(pr.job("validate")?["status"] as? String == "success", "\(pr.output)")
        #expect(pr.planExitCode(pipeline) == "2", "\(pr.output)")
        let comment = try String(contentsOfFile: pr.work + "/artifacts/comment.md", encoding: .utf8)
        #expect(
            comment.contains(all: ["setpoint plan: changes", "+ VirtualMachine/web-1", "Plan: 1 to create"]),
            "\(comment)"
        )
        #expect(pr.comments.count == 1, "\(pr.output)")
        let json = pr.work + "/artifacts/" + pipeline.planArtifact + "/plan.json"
        let plan = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any]
        )
        #expect(actionsByVerb(plan)["create"]?["resource"] as? String == "VirtualMachine/web-1", "\(plan)")
        try await PlanSchemaCheck.expectValid([json])
        let createdByThePullRequest = await env.guest(named: "web-1") != nil
        #expect(!createdByThePullRequest)
        #expect(!FileManager.default.fileExists(atPath: pipeline.state), "plan opens the state read-only")

        // A push to the default branch: the plan it saves is applied, exactly.
        let push = try await pipeline.run(event: "push", branch: "main", tag: "push")
        #expect(push.status == 0, "\(push.output)")
        #expect(push.planExitCode(pipeline) == "2", "\(push.output)")
        #expect(push.job("apply")?["status"] as? String == "success", "\(push.output)")
        #expect(push.output.contains("VirtualMachine/web-1: create done"), "\(push.output)")
        #expect(push.comments.isEmpty, "a push comments on nothing")
        let created = await env.guest(named: "web-1") != nil
        #expect(created, "\(push.output)")

        // The next push plans no changes and applies nothing: GitHub skips the apply job, GitLab's says so.
        let again = try await pipeline.run(event: "push", branch: "main", tag: "push-again")
        #expect(again.status == 0, "\(again.output)")
        #expect(again.planExitCode(pipeline) == "0", "\(again.output)")
        if pipeline.isGitHub {
            #expect(again.job("apply")?["status"] as? String == "skipped", "\(again.output)")
        } else {
            #expect(again.output.contains("The plan has no changes: nothing to apply."), "\(again.output)")
        }
        let direct = try await ChildProcess.run([
            LaunchedProcess.setpointBinary.path, "plan", pipeline.repo + "/manifests", "--state", pipeline.state,
            "--detailed-exitcode",
        ])
        #expect(direct.status == 0, "\(direct.stdout)\(direct.stderr)")
    }

    @Test(arguments: CIPipeline.files)
    func aBrokenManifestFailsValidateAndTheRunnerNamesTheJobAndStep(_ file: String) async throws {
        let env = try await SimEnv()
        defer { Task { await env.stop() } }
        let broken = ControllerTests.vm(cores: 2).replacingOccurrences(of: "memory: 2Gi", with: "memory: 2G")
        let pipeline = try await CIPipeline.make(env, file: file, documents: [broken])

        let pr = try await pipeline.run(event: "pull_request", branch: "web-1", tag: "broken")
        #expect(pr.status == 1, "\(pr.output)")
        let failure = try #require(pr.report["failure"] as? [String: Any], "\(pr.output)")
        #expect(failure["job"] as? String == "validate", "\(failure)")
        let step = failure["step"] as? String ?? ""
        #expect(
            step == (pipeline.isGitHub ? "setpoint validate" : "script[0]: dist/setpoint validate manifests/"),
            "\(failure)"
        )
        #expect(failure["exitCode"] as? Int == 1, "\(failure)")
        #expect(
            pr.output.contains(all: [
                "error[SP1007]", "FAILED \(RepoPaths.path(file)): job 'validate', step '\(step)' exited 1",
            ]),
            "\(pr.output)"
        )
        #expect(pr.job("plan")?["status"] as? String == "skipped", "\(pr.output)")
        #expect(!FileManager.default.fileExists(atPath: pr.work + "/artifacts/" + pipeline.planArtifact))
    }
}

/// One pipeline file's world for a test: a git repository with manifests/ (the ProxmoxCluster of this test's pve-sim,
/// its token and CA read from the files the pipeline's credentials step writes under `secretsRoot`), schemas/ as
/// `setpoint schema --out` writes them, the SQLite state the plan and apply jobs share, and the context (event,
/// secrets, variables) the runner is given.
struct CIPipeline {
    static let files = ["examples/ci/github-actions.yaml", "examples/ci/gitlab-ci.yml"]

    let env: SimEnv
    let file: String
    let planKey = "plan-key-\(UUID().uuidString)"
    var isGitHub: Bool { file.hasSuffix("github-actions.yaml") }
    var repo: String { env.dir + "/repo" }
    var secretsRoot: String { env.dir + "/secrets-root" }
    var state: String { env.dir + "/state.db" }
    /// The artifact (folder under WORK/artifacts) holding plan.txt, plan.json and setpoint.plan.
    var planArtifact: String { isGitHub ? "setpoint-plan" : "plan" }

    /// Root, and the tools the runner and the pipelines' steps use.
    static func toolsPresent() async -> Bool {
        let uid = await ExternalTool.run("id", ["-u"])?.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        guard uid == "0" else { return false }
        for tool in ["apt-get", "apt-cache", "dpkg", "ldd", "git", "bash"] {
            guard await ExternalTool.run("sh", ["-c", "command -v \(tool)"])?.status == 0 else { return false }
        }
        return await ExternalTool.pythonHas(["yaml", "jsonschema"])
    }

    static func make(_ env: SimEnv, file: String, documents: [String]) async throws -> CIPipeline {
        let pipeline = CIPipeline(env: env, file: file)
        let root = pipeline.secretsRoot
        let cluster = """
            apiVersion: setpoint/v1
            kind: ProxmoxCluster
            metadata: {name: pve}
            spec:
              endpoints: ["\(env.endpoint)"]
              tokenId: "root@pam!setpoint"
              tokenSecret: {file: \(root)/run/secrets/pve-token}
              tls: {caFile: \(root)/etc/setpoint/pve-prod-root-ca.pem}

            """
        try FileManager.default.createDirectory(atPath: pipeline.repo + "/manifests", withIntermediateDirectories: true)
        try ([cluster] + documents).joined(separator: "---\n").write(
            toFile: pipeline.repo + "/manifests/stack.yaml",
            atomically: true,
            encoding: .utf8
        )
        let schemas = try await ChildProcess.run([
            LaunchedProcess.setpointBinary.path, "schema", "--out", pipeline.repo + "/schemas",
        ])
        try #require(schemas.status == 0, "\(schemas.stdout)\(schemas.stderr)")
        try await ControllerGitTests.git(["init", "-q"], in: pipeline.repo)
        try await ControllerGitTests.git(["add", "-A"], in: pipeline.repo)
        try await ControllerGitTests.git(["commit", "-q", "-m", "web-1"], in: pipeline.repo)
        return pipeline
    }

    /// What the runner printed and reported for one run of the pipeline.
    struct Run {
        var status: Int32
        var output: String
        var report: [String: Any]
        var work: String

        func job(_ name: String) -> [String: Any]? {
            (report["jobs"] as? [[String: Any]])?.first { $0["job"] as? String == name }
        }

        var comments: [[String: Any]] { report["comments"] as? [[String: Any]] ?? [] }

        /// The plan's exit code as the plan job hands it on: a job output on GitHub, a dotenv variable on GitLab.
        func planExitCode(_ pipeline: CIPipeline) -> String? {
            (job("plan")?["outputs"] as? [String: Any])?[pipeline.isGitHub ? "exitcode" : "PLAN_EXIT_CODE"] as? String
        }
    }

    /// Runs the pipeline for an event (`pull_request` or `push`) in WORK = the test's folder/work-TAG.
    func run(event: String, branch: String, tag: String) async throws -> Run {
        let ca = try String(contentsOfFile: env.caFile, encoding: .utf8)
        let context: [String: Any] = [
            "event": event, "branch": branch, "defaultBranch": "main", "pullRequest": 7, "repository": "ops/infra",
            "actor": "alice", "runId": "101",
            "secrets": [
                "PVE_TOKEN": SimEnv.token, "PVE_PROD_ROOT_CA": ca, "SETPOINT_PLAN_KEY": planKey,
                "SETPOINT_NOTE_TOKEN": "glpat-ci-example",
            ],
            "vars": ["SETPOINT_STATE": state, "SETPOINT_STATE_READONLY": state, "SETPOINT_SECRETS_ROOT": secretsRoot],
        ]
        let contextFile = env.dir + "/context-\(tag).json"
        try JSONSerialization.data(withJSONObject: context).write(to: URL(fileURLWithPath: contextFile))
        let work = env.dir + "/work-\(tag)"
        let r = try await ChildProcess.run([
            "python3", RepoPaths.path("scripts/ci-example-run.py"), RepoPaths.path(file), "--source", repo, "--context",
            contextFile, "--work", work, "--binary", LaunchedProcess.setpointBinary.path,
        ])
        let output = r.stdout + r.stderr
        let data = try #require(FileManager.default.contents(atPath: work + "/report.json"), "\(output)")
        let report = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "\(output)")
        return Run(status: r.status, output: output, report: report, work: work)
    }
}
