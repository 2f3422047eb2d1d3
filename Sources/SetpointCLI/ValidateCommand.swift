import ArgumentParser
import Foundation
import Logging
import SetpointCore
import SetpointEngine
import SetpointManifest
import SetpointRender
import SetpointYAML

/// `setpoint validate PATH…`: load and check manifests; report every problem at once.
struct ValidateCommand: ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check manifests: YAML, kinds, fields, types, units, names, references and cycles.",
        discussion: """
            Reads files and folders (recursively, *.yaml and *.yml). Documents whose apiVersion is not setpoint/… are skipped with a note. Every problem is reported with its file, line, column, resource and a hint; nothing is contacted and nothing is changed.

            Examples:
              setpoint validate manifests/
              setpoint validate db.yaml guests/ --output json
              SETPOINT_LOG_LEVEL=debug setpoint validate manifests/   # timings on stderr

            Exit codes: 0 valid; 1 invalid (or a path that cannot be read).
            """
    )

    @Argument(help: "Manifest files or folders.")
    var paths: [String]

    @OptionGroup var outputOptions: OutputOptions

    @Option(name: .long, help: "Largest manifest file read, in bytes.")
    var maxFileSize: Int = LoaderLimits.default.maxFileSize

    @Option(name: .long, help: "Deepest YAML nesting accepted.")
    var maxDepth: Int = LoaderLimits.default.maxDepth

    func validate() throws {
        guard !paths.isEmpty else {
            throw ValidationError("give at least one manifest file or folder, e.g. 'setpoint validate manifests/'")
        }
        guard maxFileSize > 0, maxDepth > 0 else {
            throw ValidationError("--max-file-size and --max-depth must be positive")
        }
    }

    func execute(_ console: Console) async throws -> Int32 {
        let log = CLILog.logger("validate")
        let loader = ManifestLoader(limits: LoaderLimits(maxFileSize: maxFileSize, maxDepth: maxDepth))
        let runtime = CLIRuntime.current ?? .shipped
        let start = runtime.clock.elapsed
        var set = loader.load(paths: paths)
        if set.isValid {
            // The providers' own checks (promtool check rules …): nothing is contacted, nothing changed.
            let context = ProviderContext(
                secrets: runtime.secrets,
                clock: runtime.clock,
                declared: Dictionary(set.resources.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            )
            set.diagnostics += await ProviderChecks.run(set.resources, providers: runtime.providers, context: context)
        }
        log.debug(
            "loaded manifests",
            metadata: [
                "files": "\(set.files.count)", "resources": "\(set.resources.count)",
                "diagnostics": "\(set.diagnostics.count)", "elapsed": "\(runtime.clock.elapsed - start)",
            ]
        )
        switch outputOptions.format {
        case .json:
            console.out(
                DiagnosticJSONRenderer().render(
                    diagnostics: set.diagnostics,
                    resources: set.resources.count,
                    files: set.files.count,
                    skipped: set.skippedDocuments
                )
            )
        case .text:
            let style = TerminalStyle.detect(isTerminal: console.isTerminal, environment: console.environment)
            let renderer = DiagnosticTextRenderer(style: style, sourceLine: SourceLines().line)
            console.err(renderer.render(set.diagnostics))
            console.out(
                renderer.summary(
                    resources: set.resources.count,
                    files: set.files.count,
                    skipped: set.skippedDocuments,
                    diagnostics: set.diagnostics
                )
            )
        }
        return set.isValid ? 0 : 1
    }
}
