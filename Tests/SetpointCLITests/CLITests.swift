import Foundation
import SetpointCLI
import SetpointCore
import SetpointTesting
import Testing

@Suite(.timeLimit(.minutes(2))) struct CLITests {
    func run(_ args: [String], terminal: Bool = false, env: [String: String] = [:]) async -> (Int32, String, String) {
        let console = Console.capturing(isTerminal: terminal, environment: env)
        let code = await SetpointCLI.run(args, console: console)
        return (code, console.capturedOut, console.capturedErr)
    }

    func tempFile(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "setpoint-cli-\(UUID().uuidString).yaml"
        ).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static let broken = """
        apiVersion: setpoint/v1
        kind: ResourcePool
        metadata: {name: apps}
        spec: {cluster: missing, comments: x}

        """

    @Test func validExamplesExitZero() async {
        let (code, out, err) = await run(["validate", RepoPaths.path("examples/quickstart")])
        #expect(code == 0, "\(err)")
        #expect(out.hasPrefix("valid: "))
    }

    @Test func invalidManifestExitsOneWithPositionedDiagnostics() async throws {
        let file = try tempFile(Self.broken)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let (code, out, err) = await run(["validate", file])
        #expect(code == 1)
        #expect(
            err.contains(
                "\(file):4:17: error[SP1010]: spec.cluster names ProxmoxCluster/missing, which no manifest declares in ResourcePool/apps"
            )
        )
        #expect(err.contains("\(file):4:26: error[SP1003]: unknown field 'comments' in ResourcePool/apps"))
        #expect(err.contains("hint: did you mean 'comment'?"))
        #expect(out.hasPrefix("invalid: 2 errors"))
    }

    @Test func jsonOutputIsVersionedAndComplete() async throws {
        let file = try tempFile(Self.broken)
        defer { try? FileManager.default.removeItem(atPath: file) }
        for args in [["validate", file, "--output", "json"], ["validate", file, "--json"]] {
            let (code, out, _) = await run(args)
            #expect(code == 1)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
            #expect(object["formatVersion"] as? Int == 1)
            #expect(object["valid"] as? Bool == false)
            let diagnostics = try #require(object["diagnostics"] as? [[String: Any]])
            #expect(diagnostics.compactMap { $0["code"] as? String } == ["SP1010", "SP1003"])
            #expect(diagnostics.first?["line"] as? Int == 4)
            #expect(diagnostics.first?["resource"] as? String == "ResourcePool/apps")
        }
    }

    @Test func colourOnlyOnATerminalWithoutNO_COLOR() async throws {
        let file = try tempFile(Self.broken)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let (_, _, coloured) = await run(["validate", file], terminal: true)
        #expect(coloured.contains("\u{1B}["))
        let (_, _, noColor) = await run(["validate", file], terminal: true, env: ["NO_COLOR": "1"])
        #expect(!noColor.contains("\u{1B}["))
        let (_, _, piped) = await run(["validate", file], terminal: false)
        #expect(!piped.contains("\u{1B}["))
    }

    @Test func validateNeedsAPath() async {
        let (code, _, err) = await run(["validate"])
        #expect(code != 0)
        #expect(err.contains("give at least one manifest file or folder") || err.contains("Missing expected argument"))
    }

    @Test func versionAndHelp() async {
        let (code, out, _) = await run(["version"])
        #expect(code == 0)
        #expect(out.contains("setpoint \(SetpointCLI.version)"))
        #expect(out.contains("setpoint/v1"))
        let (helpCode, help, _) = await run(["validate", "--help"])
        #expect(helpCode == 0)
        #expect(help.contains("Examples:"))
        #expect(help.contains("--output"))
    }

    @Test func schemaCommand() async {
        let (code, out, _) = await run(["schema", "VirtualMachine"])
        #expect(code == 0)
        #expect(out.contains("\"title\": \"VirtualMachine\""))
        let (bad, _, err) = await run(["schema", "Widget"])
        #expect(bad == 1)
        #expect(err.contains("unknown kind 'Widget'"))
    }

    static var binary: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("setpoint")
            .path
    }

    /// docs/diagnostics.md shows real output: regenerating it with this build's binary must change nothing.
    @Test(.enabled("needs python3") { await ExternalTool.pythonHas(["json"]) || ExternalTool.isCI })
    func diagnosticsDocumentationIsCurrent() async throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("diagnostics-\(UUID().uuidString).md")
            .path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let result = try #require(
            await ExternalTool.run("python3", [RepoPaths.path("scripts/gen-diagnostics-doc.py"), Self.binary, out])
        )
        #expect(result.status == 0, "\(result.stderr)")
        let generated = FileManager.default.contents(atPath: out).map { String(decoding: $0, as: UTF8.self) }
        let committed = FileManager.default.contents(atPath: RepoPaths.path("docs/diagnostics.md")).map {
            String(decoding: $0, as: UTF8.self)
        }
        #expect(
            generated == committed,
            "docs/diagnostics.md is stale: run scripts/gen-diagnostics-doc.py .build/debug/setpoint docs/diagnostics.md"
        )
        for (code, _) in DiagnosticCode.catalogue {
            #expect(
                committed?.contains("\n## \(code.rawValue) ") == true,
                "docs/diagnostics.md has no section for \(code)"
            )
        }
    }

    /// The examples in README.md and docs/cli.md print exactly what they show.
    @Test(.enabled("needs python3") { await ExternalTool.pythonHas(["json"]) || ExternalTool.isCI })
    func documentedExamplesRun() async throws {
        let result = try #require(
            await ExternalTool.run("python3", [RepoPaths.path("scripts/check-doc-examples.py"), Self.binary])
        )
        #expect(
            result.status == 0,
            "README.md or docs/cli.md shows output the binary does not print:\n\(result.stderr)"
        )
    }

    /// The shipped binary, as a separate process: exit codes, stdout/stderr split, NO_COLOR.
    @Test func builtBinary() async throws {
        let binary = Self.binary
        try #require(FileManager.default.isExecutableFile(atPath: binary), "no setpoint binary at \(binary)")
        let file = try tempFile(Self.broken)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let bad = try #require(await ExternalTool.run(binary, ["validate", file]))
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("error[SP1010]"))
        #expect(!bad.stderr.contains("\u{1B}["), "not a terminal: no colour")
        let good = try #require(await ExternalTool.run(binary, ["validate", RepoPaths.path("examples/quickstart")]))
        #expect(good.status == 0, "\(good.stderr)")
        let usage = try #require(await ExternalTool.run(binary, ["validate", "--output", "yaml", file]))
        #expect(usage.status == 1, "a usage error exits 1, like every error")
        #expect(usage.stderr.contains("yaml"))
    }
}
