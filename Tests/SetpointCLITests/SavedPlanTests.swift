import Foundation
import SetpointCLI
import SetpointCore
import SetpointEngine
import SetpointTesting
import Testing

/// `plan --out FILE` and `apply FILE`: exactly the saved plan, refused when stale or edited.
@Suite(.timeLimit(.minutes(2))) struct SavedPlanTests {
    static let api1 = ResourceID(kind: .virtualMachine, name: "api-1")
    static let api2 = ResourceID(kind: .virtualMachine, name: "api-2")

    /// Applied once; then api-1's manifest changes (a pool move), so a plan touches api-1 only.
    func prepared() async throws -> PlanApplyTests.Env {
        let env = try PlanApplyTests.Env()
        try env.write()
        _ = await env.run(["apply", env.manifests, "--auto-approve"])
        var text = try String(contentsOfFile: env.manifests + "/stack.yaml", encoding: .utf8)
        text = text.replacingOccurrences(
            of: "metadata: {name: api-1}\nspec: {cluster: pve, memory: 1Gi, pool: apps}",
            with: "metadata: {name: api-1}\nspec: {cluster: pve, memory: 1Gi, pool: apps, cores: 2}"
        )
        try text.write(toFile: env.manifests + "/stack.yaml", atomically: true, encoding: .utf8)
        return env
    }

    @Test func aSavedPlanIsAppliedExactly() async throws {
        let env = try await prepared()
        defer { env.cleanup() }
        let file = env.dir + "/api.plan"
        let (code, _, err) = await env.run(["plan", env.manifests, "--out", file])
        #expect(code == 0)
        #expect(err.contains("saved plan"))
        let (applied, out, applyErr) = await env.run(["apply", file, "--auto-approve"])
        #expect(applied == 0, "\(out)\(applyErr)")
        #expect(out.contains("VirtualMachine/api-1: update done"))
        #expect(env.provider.backend.entry(Self.api1)?.spec["cores"] == .int(2))
        #expect(await env.run(["plan", env.manifests, "--detailed-exitcode"]).0 == 0)
        let (again, _, againErr) = await env.run(["apply", file, "--auto-approve"])
        #expect(again == 1, "a saved plan runs once")
        #expect(againErr.contains("was already applied"))
    }

    @Test func aChangeToATouchedResourceMakesItStaleNamingTheField() async throws {
        let env = try await prepared()
        defer { env.cleanup() }
        let file = env.dir + "/api.plan"
        _ = await env.run(["plan", env.manifests, "--out", file])
        env.provider.backend.set(
            Self.api1,
            spec: env.provider.backend.entry(Self.api1)!.spec.setting(["memory"], to: .int(512 << 20))
        )
        let (code, _, err) = await env.run(["apply", file, "--auto-approve"])
        #expect(code == 1)
        #expect(err.contains("plan"))
        #expect(err.contains("is stale; nothing was applied"))
        #expect(err.contains("VirtualMachine/api-1 changed since the plan was made: spec.memory"))
        #expect(env.provider.backend.entry(Self.api1)?.spec["cores"] == nil, "nothing was applied")
    }

    @Test func aChangeToAnUnrelatedResourceDoesNot() async throws {
        let env = try await prepared()
        defer { env.cleanup() }
        let file = env.dir + "/api.plan"
        _ = await env.run(["plan", env.manifests, "--out", file])
        env.provider.backend.set(
            Self.api2,
            spec: env.provider.backend.entry(Self.api2)!.spec.setting(["pool"], to: .string("moved"))
        )
        let (code, out, err) = await env.run(["apply", file, "--auto-approve"])
        #expect(code == 0, "\(out)\(err)")
        #expect(env.provider.backend.entry(Self.api1)?.spec["cores"] == .int(2))
        #expect(
            env.provider.backend.entry(Self.api2)?.spec["pool"] == .string("moved"),
            "the saved plan did not touch api-2"
        )
    }

    @Test func anEditedPlanIsDetectedWithAndWithoutAKey() async throws {
        let env = try await prepared()
        defer { env.cleanup() }
        // Unsigned: any edit of the plan breaks its digest.
        let file = env.dir + "/api.plan"
        _ = await env.run(["plan", env.manifests, "--out", file])
        var text = try String(contentsOfFile: file, encoding: .utf8)
        try text.replacingOccurrences(of: "\"cores\"", with: "\"sockets\"").write(
            toFile: file,
            atomically: true,
            encoding: .utf8
        )
        let (edited, _, editedErr) = await env.run(["apply", file, "--auto-approve"])
        #expect(edited == 3)
        #expect(editedErr.contains("was edited: its content does not match its digest"))

        // Signed: an edit whose digest was recomputed is still caught by the signature.
        let signed = env.dir + "/signed.plan"
        let console = Console.capturing()
        let runtime = CLIRuntime(
            providers: [env.provider],
            secrets: EnvironmentSecretResolver(environment: ["PVE_TOKEN": "t", "K": "k3y"])
        )
        _ = await SetpointCLI.run(
            ["plan", env.manifests, "--out", signed, "--sign-key", "env:K", "--state", env.state],
            console: console,
            runtime: runtime
        )
        text = try String(contentsOfFile: signed, encoding: .utf8)
        let newline = text.firstIndex(of: "\n")!
        let body = String(text[text.index(after: newline)...]).replacingOccurrences(
            of: "\"cores\"",
            with: "\"sockets\""
        )
        let bodyBytes = Array(body.utf8.dropLast())
        let header = String(text[..<newline])
        let digest = header.split(separator: ",").first { $0.contains("\"digest\"") }!
        let forged = header.replacingOccurrences(
            of: String(digest),
            with: "{\"digest\":\"sha256:\(SHA256.hexString(SHA256.hash(bodyBytes)))\""
        )
        try (forged + "\n" + body).write(toFile: signed, atomically: true, encoding: .utf8)
        let verify = Console.capturing()
        let code = await SetpointCLI.run(
            ["apply", signed, "--auto-approve", "--sign-key", "env:K", "--state", env.state],
            console: verify,
            runtime: runtime
        )
        #expect(code == 3)
        #expect(verify.capturedErr.contains("signature does not match"))
        let noKey = Console.capturing()
        #expect(
            await SetpointCLI.run(
                ["apply", signed, "--auto-approve", "--state", env.state],
                console: noKey,
                runtime: runtime
            ) == 1
        )
        #expect(noKey.capturedErr.contains("is signed: give the key with --sign-key"))
        #expect(env.provider.backend.entry(Self.api1)?.spec["cores"] == nil, "nothing was applied")
    }

    @Test func changedManifestsRefuseTheSavedPlan() async throws {
        let env = try await prepared()
        defer { env.cleanup() }
        let file = env.dir + "/api.plan"
        _ = await env.run(["plan", env.manifests, "--out", file])
        try env.write(vms: ["api-1": "4Gi", "api-2": "1Gi"])
        let (code, _, err) = await env.run(["apply", file, "--auto-approve"])
        #expect(code == 1)
        #expect(err.contains("changed since plan"))
    }
}
