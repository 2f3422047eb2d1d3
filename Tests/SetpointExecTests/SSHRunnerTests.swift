import Foundation
import SetpointExec
import SetpointTesting
import Testing

/// The SSH runner against the sshd scripts/test starts on 127.0.0.1 (SETPOINT_TEST_SSH_*): commands run there with
/// their argv intact, failures name the host and quote it, a host key that is not the pinned one is refused, and one
/// master connection carries the commands.
@Suite(
    .timeLimit(.minutes(2)),
    .enabled(
        if: ProcessInfo.processInfo.environment["SETPOINT_TEST_SSH_PORT"] != nil || ExternalTool.isCI,
        "needs the sshd scripts/test starts"
    )
)
struct SSHRunnerTests {
    /// A runner for the test sshd with its own folder (config, pins, control socket), removed by `cleanup`.
    struct Fixture {
        let runner: SSHRunner
        let dir: String

        init(pinnedKey: String? = nil, alias: String = "test-host") throws {
            let env = ProcessInfo.processInfo.environment
            let port = try #require(env["SETPOINT_TEST_SSH_PORT"].flatMap(Int.init), "run through scripts/test")
            let key = try #require(env["SETPOINT_TEST_SSH_KEY"])
            let hostKey = try #require(env["SETPOINT_TEST_SSH_HOST_KEY"])
            // Short: a control socket's path must fit in 108 bytes.
            dir = "/tmp/sp-ssh-\(UInt32.random(in: 0...UInt32.max))"
            try FileManager.default.createDirectory(
                atPath: dir,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
            try "[127.0.0.1]:\(port) \(pinnedKey ?? hostKey)\n".write(
                toFile: dir + "/known_hosts",
                atomically: true,
                encoding: .utf8
            )
            let host = SSHClientConfig.Host(
                alias: alias,
                address: "127.0.0.1",
                port: port,
                user: try #require(env["SETPOINT_TEST_SSH_USER"]),
                identityFile: key,
                knownHostsFile: dir + "/known_hosts",
                connectTimeout: .seconds(5),
                controlPath: dir + "/m"
            )
            try SSHClientConfig(hosts: [host]).text.write(toFile: dir + "/config", atomically: true, encoding: .utf8)
            runner = SSHRunner(host: host, configFile: dir + "/config")
        }

        func cleanup() async {
            await runner.close()
            try? FileManager.default.removeItem(atPath: dir)
        }
    }

    @Test func becomeNoneRefusesAnotherUserAndSudoIsUsedOtherwise() throws {
        let host = SSHClientConfig.Host(
            alias: "pg-2",
            address: "10.0.0.12",
            port: 22,
            user: "setpoint",
            identityFile: "/k",
            knownHostsFile: "/kh",
            connectTimeout: .seconds(5),
            controlPath: "/m"
        )
        let command = Command("/usr/bin/id", user: "postgres")
        let sudo = try SSHRunner(host: host, configFile: "/c").commandLine(command)
        #expect(
            sudo.hasPrefix("'sudo' '-n' '-u' 'postgres' '--'") || sudo.hasPrefix("sudo -n -u postgres --"),
            "\(sudo)"
        )
        #expect(throws: CommandFailure.self) {
            try SSHRunner(host: host, configFile: "/c", become: false).commandLine(command)
        }
        // Its own user needs no sudo either way.
        let own = try SSHRunner(host: host, configFile: "/c", become: false).commandLine(
            Command("/usr/bin/id", user: "setpoint")
        )
        #expect(!own.contains("sudo"), "\(own)")
    }

    @Test func hostileArgumentsArriveByteForByteThroughSSHD() async throws {
        let f = try Fixture()
        try await f.runner.connect()
        for argv in RemoteShellTests.argvs(count: 40, seed: 21) {
            let out = try await f.runner.run(Command("printf", ["%s\\0"] + argv))
            let back = out.stdout.split(separator: "\0", omittingEmptySubsequences: false).dropLast().map(String.init)
            #expect(back == argv, "\(argv.debugDescription) came back as \(back.debugDescription)")
        }
        await f.cleanup()
    }

    @Test func inputStatusAndOutputAreTheRemoteCommands() async throws {
        let f = try Fixture()
        let echoed = try await f.runner.run(Command("/bin/sh", ["-c", "cat; id -un"], input: "from stdin\n"))
        #expect(echoed.stdout == "from stdin\n\(f.runner.host.user)\n")
        let inTmp = try await f.runner.run(Command("pwd", workingDirectory: "/tmp"))
        #expect(inTmp.stdout == "/tmp\n")
        do {
            _ = try await f.runner.run(Command("/bin/sh", ["-c", "echo 'disk full' >&2; exit 7"]))
            Issue.record("exit 7 must throw")
        } catch let failure as CommandFailure {
            #expect(failure.status == 7)
            #expect("\(failure)".contains("exited with status 7 on test-host (127.0.0.1:"), "\(failure)")
            #expect("\(failure)".contains("disk full"))
        }
        await f.cleanup()
    }

    @Test func aHostKeyThatIsNotThePinnedOneIsRefused() async throws {
        // Another key's public half in the pins: ssh must refuse the host, naming the mismatch.
        let f = try Fixture(
            pinnedKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBAPG0qway0Dnc0IkfmtZoHINC/n+3uO9rLiJx0Nz7Nb"
        )
        do {
            _ = try await f.runner.run(Command("true"))
            Issue.record("a host key that is not pinned must be refused")
        } catch let failure as CommandFailure {
            #expect("\(failure)".contains("test-host (127.0.0.1:"), "\(failure)")
            #expect(
                "\(failure)".contains("Host key verification failed")
                    || "\(failure)".contains("HOST IDENTIFICATION HAS CHANGED"),
                "\(failure)"
            )
        }
        await #expect(throws: CommandFailure.self) { try await f.runner.connect() }
        #expect(f.runner.masterPID == nil)
        await f.cleanup()
    }

    @Test func oneMasterConnectionCarriesTheCommands() async throws {
        let f = try Fixture()
        try await f.runner.connect()
        let pid = try #require(f.runner.masterPID)
        #expect(kill(pid, 0) == 0, "the master is this process's child and runs")
        // Sessions through the master: each command's ssh exits at once, the master stays the same.
        for i in 0..<10 {
            #expect(try await f.runner.run(Command("echo", ["\(i)"])).stdout == "\(i)\n")
        }
        #expect(f.runner.masterPID == pid)
        #expect(try await f.runner.isConnected())
        await f.runner.close()
        #expect(try await !f.runner.isConnected())
        #expect(!FileManager.default.fileExists(atPath: f.dir + "/m"), "the control socket is gone")
        await f.cleanup()
    }

    @Test func anEnvironmentIsRefusedRatherThanPutOnTheCommandLine() async throws {
        let f = try Fixture()
        await #expect(throws: CommandFailure.self) {
            try await f.runner.run(Command("env", environment: ["PGPASSWORD": "secret"]))
        }
        await f.cleanup()
    }
}
