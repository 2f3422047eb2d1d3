import Foundation
import SetpointTesting
import Testing

/// The shipped binaries together, as the quickstart runs them: `pve-sim` with `--ca-out`, `setpoint` trusting that CA,
/// with `--state-file` carrying the cluster across a restart of the simulator.
@Suite(.timeLimit(.minutes(5)), .serialized) struct BinariesTests {
    static let bin = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()

    /// Starts pve-sim; returns its process and port (from --port-file).
    static func startSim(_ dir: String, extra: [String] = []) async throws -> (ChildProcess, Int) {
        let portFile = dir + "/port"
        try? FileManager.default.removeItem(atPath: portFile)
        let process = try ChildProcess.start(
            [
                bin.appendingPathComponent("pve-sim").path, "--listen", "127.0.0.1:0", "--ca-out", dir + "/ca.pem",
                "--tls-dir", dir + "/tls", "--port-file", portFile, "--task-seconds", "0.05",
                "--state-file", dir + "/sim.json",
            ] + extra
        )
        for _ in 0..<300 {
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8), let port = Int(text) {
                return (process, port)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        await process.kill()
        throw CancellationError()
    }

    static func setpoint(_ args: [String], dir: String) async -> (Int32, String) {
        // Through /usr/bin/env: NAME=VALUE before the command sets the token for it alone.
        let r = await ExternalTool.run(
            "PVE_TOKEN=5e7d0000-0000-4000-8000-000000000001",
            [bin.appendingPathComponent("setpoint").path] + args + ["--state", dir + "/state.db"]
        )
        return (r?.status ?? -1, (r?.stdout ?? "") + (r?.stderr ?? ""))
    }

    @Test func setpointTrustsTheCAPveSimWritesAndTheClusterSurvivesARestart() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("setpoint-bin-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: dir + "/m", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var (sim, port) = try await Self.startSim(dir)
        defer { sim.signal(SIGKILL) }
        let manifest = """
            apiVersion: setpoint/v1
            kind: ProxmoxCluster
            metadata: {name: pve}
            spec: {endpoints: ["https://127.0.0.1:\(port)"], tokenId: "root@pam!setpoint", tokenSecret: {env: PVE_TOKEN}, tls: {caFile: \(dir)/ca.pem}}
            ---
            apiVersion: setpoint/v1
            kind: VirtualMachine
            metadata: {name: bin-1}
            spec: {cluster: pve, node: pve1, memory: 1Gi}

            """
        try manifest.write(toFile: dir + "/m/stack.yaml", atomically: true, encoding: .utf8)
        let (applyCode, applyOut) = await Self.setpoint(["apply", dir + "/m", "--auto-approve"], dir: dir)
        #expect(applyCode == 0, "\(applyOut)")
        // Restart the simulator on the same port: same CA (--tls-dir), same cluster (--state-file).
        await sim.kill()
        (sim, port) = try await Self.startSim(dir, extra: [])
        try manifest.replacingOccurrences(
            of: "127.0.0.1:[0-9]+",
            with: "127.0.0.1:\(port)",
            options: .regularExpression
        )
        .write(toFile: dir + "/m/stack.yaml", atomically: true, encoding: .utf8)
        let (planCode, planOut) = await Self.setpoint(["plan", dir + "/m", "--detailed-exitcode"], dir: dir)
        #expect(planCode == 0, "the restarted simulator still has the guest and trusts the same CA:\n\(planOut)")
    }
}
