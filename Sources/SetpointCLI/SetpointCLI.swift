import ArgumentParser
import Foundation
import SetpointRemote

/// Entry points of the `setpoint` command line. The executable calls `main()`; tests call `run(_:console:)`.
public enum SetpointCLI {
    public static let version = "0.1.0"

    /// Runs with the process's arguments and exits with the command's code.
    public static func main() async {
        let code = await run(Array(CommandLine.arguments.dropFirst()), console: .standard())
        // Everything is written and committed by now. `_exit` skips the C libraries' atexit teardown (OpenSSL,
        // libcurl), which can race the worker threads that are still parked (curl, libpq, NIO) and crash at exit.
        fflush(nil)
        _exit(code)
    }

    /// Parses `arguments` and runs the command, writing to `console`. Returns the exit code.
    /// - Parameter runtime: providers and secrets; the shipped build's by default, fakes in tests.
    public static func run(_ arguments: [String], console: Console, runtime: CLIRuntime? = nil) async -> Int32 {
        var runtime = runtime ?? .shipped
        // The command's own sessions to the Hosts it reaches, closed (masters ended, keys removed) when it ends.
        let owned = runtime.hosts == nil ? HostSessionPool.fromEnvironment(ProcessInfo.processInfo.environment) : nil
        if let owned { runtime.hosts = owned }
        let code = await CLIRuntime.$current.withValue(runtime) {
            await runParsed(arguments, console: console)
        }
        await owned?.close()
        return code
    }

    static func runParsed(_ arguments: [String], console: Console) async -> Int32 {
        do {
            var command = try SetpointCommand.parseAsRoot(arguments)
            if let runnable = command as? any ConsoleCommand {
                return try await runnable.execute(console)
            }
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            return 0
        } catch {
            let message = SetpointCommand.fullMessage(for: error)
            // Usage errors exit 1 like every other error: the documented exit codes are 0, 1, 2 and 3.
            var code = SetpointCommand.exitCode(for: error).rawValue
            if code == ExitCode.validationFailure.rawValue { code = 1 }
            if !message.isEmpty {
                if code == 0 { console.out(message + "\n") } else { console.err(message + "\n") }
            }
            return code
        }
    }
}

/// A command that writes through a `Console` and returns its exit code.
protocol ConsoleCommand: ParsableCommand {
    func execute(_ console: Console) async throws -> Int32
}

extension ConsoleCommand {
    func run() throws {
        // Commands run through SetpointCLI.run, which calls execute(_:).
        throw CleanExit.message("internal: run through SetpointCLI.run")
    }
}
