import ArgumentParser
import Foundation
import PVESim

/// `pve-sim`: a Proxmox VE API simulator for tests, demos and CI.
@main struct PVESimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pve-sim",
        abstract: "Serve a simulated Proxmox VE cluster's API (/api2/json) over HTTPS.",
        discussion: """
            Behaves as PVE 9.1 does for every method of the API subset Setpoint uses: token and ticket auth, PVE's \
            parameter checks and error wording, UPID tasks that hold guest locks, config digests, live or pending \
            changes on running guests as PVE's hotplug rules say, thin-provisioned local-lvm, seeded fault injection. \
            Also answers the reads monitoring tools make (backup-info/not-backed-up, subscription, replication, qdevice).

            GET /pve-sim/stats (no token) reports request counts by endpoint and how many times each VMID and name \
            was created.

            Example:
              pve-sim --listen 127.0.0.1:8006 --ca-out /tmp/pve-ca.pem --nodes 3 --task-seconds 0.5
            """
    )

    @Option(help: "Address and port to listen on (port 0 picks a free one).") var listen = "127.0.0.1:8006"
    @Flag(help: "Serve plain HTTP instead of HTTPS (tests only).") var http = false
    @Option(help: "Write the CA certificate clients should trust to this file.") var caOut: String?
    @Option(help: "Keep the CA (ca.pem, ca-key.pem) in this directory so it survives restarts.") var tlsDir: String?
    @Option(help: "Write the server key's pin (sha256//BASE64) to this file.") var pinOut: String?
    @Option(help: "Write the bound port to this file once listening.") var portFile: String?
    @Option(help: "Number of nodes (pve1, pve2, …).") var nodes = 3
    @Option(help: "Guests to pre-populate (VMIDs from 100).") var guests = 0
    @Option(help: "Tags of the pre-populated guests, e.g. setpoint (repeatable).") var guestTag: [String] = []
    @Option(help: "Seconds each worker task runs.") var taskSeconds = 0.3
    @Option(help: "Latency added to every request, e.g. 2ms or 0.5s.") var latency = "0ms"
    @Option(help: "Chance of a 5xx per write: half before the handler, half after it committed.") var failRate = 0.0
    @Option(help: "Chance that a config write finds the config file locked.") var lockContention = 0.0
    @Option(help: "Chance that a worker task ends in error.") var taskFailureRate = 0.0
    @Flag(help: "Make every thin pool (local-lvm) full: new thin volumes are refused as LVM refuses them.")
    var thinPoolsFull = false
    @Option(help: "Seed for every random choice (faults, MACs, UUIDs).") var seed: UInt64 = 1
    @Option(help: "Keep the cluster in this JSON file across restarts.") var stateFile: String?
    @Option(
        help:
            "An API token USER@REALM!NAME=SECRET[:ROLE] (Administrator, PVEAuditor, PVEVMAdmin or a privilege list). Repeatable."
    )
    var token: [String] = []
    @Option(help: "root@pam's password, for tickets.") var rootPassword = "setpoint"
    @Option(help: "Memory per node in GiB.") var nodeMemoryGib = 64
    @Option(
        help: ArgumentHelp(
            "Run this program on every lifecycle event of a guest (start, shutdown, stop, reboot, destroy, migrate, resume): PROGRAM EVENT, with the guest as JSON on stdin; the task ends when it has, and fails when it fails.",
            valueName: "PROGRAM"
        )
    )
    var guestHook: String?
    @Option(help: "Seconds a guest hook may run before its task fails.") var guestHookTimeout = 300

    func run() async throws {
        var options = SimOptions()
        options.nodes = nodes
        options.guests = guests
        options.guestTags = guestTag
        options.taskSeconds = taskSeconds
        options.latency = try Self.duration(latency)
        options.failRate = failRate
        options.lockContention = lockContention
        options.taskFailureRate = taskFailureRate
        options.thinPoolsFull = thinPoolsFull
        options.seed = seed
        options.stateFile = stateFile
        options.rootPassword = rootPassword
        options.nodeMemory = Int64(nodeMemoryGib) << 30
        if let guestHook {
            guard FileManager.default.isExecutableFile(atPath: guestHook) else {
                throw ValidationError("--guest-hook \(guestHook) is not an executable file")
            }
            options.guestHook = GuestHook(
                command: URL(fileURLWithPath: guestHook).standardizedFileURL.path,
                timeout: .seconds(guestHookTimeout)
            )
        }
        if !token.isEmpty {
            options.tokens = try token.map { text in
                guard let spec = TokenSpec(parsing: text) else {
                    throw ValidationError(
                        "--token '\(text)': expected USER@REALM!NAME=SECRET[:ROLE], e.g. root@pam!setpoint=5e7d…:Administrator"
                    )
                }
                return spec
            }
        }
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]) else {
            throw ValidationError("--listen '\(listen)': expected HOST:PORT, e.g. 127.0.0.1:8006")
        }
        let host = String(listen[..<colon])
        let tls = http ? nil : try SelfSignedCA.make(directory: tlsDir, names: ["localhost", host])
        if let caOut, let tls { try tls.caPEM.write(toFile: caOut, atomically: true, encoding: .utf8) }
        if let pinOut, let tls { try tls.publicKeyPin.write(toFile: pinOut, atomically: true, encoding: .utf8) }
        let simulator = PVESimulator(options: options)
        let running = try await PVESimServer.start(simulator, host: host, port: port, tls: tls)
        if let portFile { try String(running.port).write(toFile: portFile, atomically: true, encoding: .utf8) }
        var banner =
            "pve-sim: serving \(running.baseURL.replacingOccurrences(of: "127.0.0.1:\(running.port)", with: "\(host):\(running.port)")) "
            + "(\(nodes) nodes; tokens: \(options.tokens.map(\.id).joined(separator: ", ")))\n"
        if let tls { banner += "pve-sim: server key pin \(tls.publicKeyPin)\n" }
        FileHandle.standardOutput.write(Data(banner.utf8))
        try await withTaskCancellationHandler {
            while true { try await Task.sleep(for: .seconds(3600)) }
        } onCancel: {
        }
    }

    /// `2ms`, `0.5s`, `250` (milliseconds).
    static func duration(_ text: String) throws -> Duration {
        if text.hasSuffix("ms"), let v = Double(text.dropLast(2)) { return .milliseconds(v) }
        if text.hasSuffix("s"), let v = Double(text.dropLast()) { return .milliseconds(v * 1000) }
        if let v = Double(text) { return .milliseconds(v) }
        throw ValidationError("--latency '\(text)': expected a duration such as 2ms or 0.5s")
    }
}
