import Foundation
import SetpointExec
import Testing

/// SetpointExec's local runner.
@Suite(.timeLimit(.minutes(2))) struct LocalRunnerTests {
    @Test func runsArgvWithoutAShellAndCapturesOutput() async throws {
        let r = try await LocalRunner().run(Command("/bin/echo", ["a b", "$HOME", "; rm -rf /"]))
        #expect(r.status == 0)
        #expect(r.stdout == "a b $HOME ; rm -rf /\n", "arguments reach the program as they are, no shell expands them")
    }

    @Test func aFailureQuotesTheCommandAndItsOutput() async throws {
        do {
            _ = try await LocalRunner().run(Command("/bin/sh", ["-c", "echo 'could not open file' >&2; exit 3"]))
            Issue.record("exit 3 must throw")
        } catch let failure as CommandFailure {
            #expect(failure.status == 3)
            #expect("\(failure)".contains("exited with status 3"))
            #expect("\(failure)".contains("could not open file"))
            #expect("\(failure)".hasPrefix("/bin/sh -c 'echo"))
        }
        let allowed = try await LocalRunner().run(Command("/bin/sh", ["-c", "exit 4"]), allowFailure: true)
        #expect(allowed.status == 4)
    }

    @Test func inputEnvironmentAndDirectory() async throws {
        let r = try await LocalRunner().run(
            Command(
                "/bin/sh",
                ["-c", "cat; echo \"$GREETING\"; pwd"],
                environment: ["GREETING": "hi"],
                workingDirectory: "/tmp",
                input: "from stdin\n"
            )
        )
        #expect(r.stdout == "from stdin\nhi\n/tmp\n")
    }

    @Test func aTimeoutKillsTheCommand() async throws {
        do {
            _ = try await LocalRunner().run(Command("/bin/sleep", ["10"], timeout: .milliseconds(200)))
            Issue.record("must time out")
        } catch let failure as CommandFailure {
            #expect(failure.reason.contains("timed out"))
        }
    }

    @Test(.enabled(if: geteuid() == 0, "needs root to switch users"))
    func asRootAnotherUsersCommandRunsThroughRunuser() async throws {
        let command = Command("/usr/bin/id", ["-un"], user: "nobody")
        #expect(try LocalRunner().argv(command).prefix(4) == ["/usr/sbin/runuser", "-u", "nobody", "--"])
        let r = try await LocalRunner().run(command)
        #expect(r.stdout == "nobody\n")
    }

    @Test func aMissingProgramIsAClearError() async throws {
        do {
            _ = try await LocalRunner().run(Command("/nonexistent/pg_basebackup", ["-D", "/x"]))
            Issue.record("must fail to start")
        } catch let failure as CommandFailure {
            #expect(failure.status == nil && failure.reason.contains("could not start"))
        }
    }
}
