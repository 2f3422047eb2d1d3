import ArgumentParser
import Foundation
import SetpointCore
import SetpointManifest

/// `setpoint schema [KIND] [--out DIR]`: print or write the JSON Schemas of the kinds.
struct SchemaCommand: ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "Print a kind's JSON Schema (draft 2020-12), or write every schema to a folder.",
        discussion: """
            Without a kind, prints the schema that accepts any setpoint/v1 document. Editors using yaml-language-server pick it up from a modeline:
              # yaml-language-server: $schema=../schemas/setpoint.schema.json

            Examples:
              setpoint schema VirtualMachine
              setpoint schema --out schemas/
              setpoint schema --markdown > docs/manifests.md
            """
    )

    @Flag(name: .long, help: "Print the manifest reference (Markdown) instead of a JSON Schema.")
    var markdown = false

    @Argument(help: "A kind, e.g. VirtualMachine.")
    var kind: String?

    @Option(name: .long, help: "Write every schema file into this folder.")
    var out: String?

    func execute(_ console: Console) async throws -> Int32 {
        if markdown {
            console.out(ManifestReference.markdown())
            return 0
        }
        if let out {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            for file in JSONSchemaGenerator.allFiles() {
                let path = (out as NSString).appendingPathComponent(file.name)
                try Data(file.contents.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
                console.out("wrote \(path)\n")
            }
            return 0
        }
        guard let kind else {
            console.out(JSONSchemaGenerator.umbrellaSchema().serialized() + "\n")
            return 0
        }
        guard let definition = KindRegistry.definition(for: ResourceKind(kind)) else {
            console.err(
                "error: unknown kind '\(kind)'; kinds: " + KindRegistry.v1.map(\.kind.rawValue).joined(separator: ", ")
                    + "\n"
            )
            return 1
        }
        console.out(JSONSchemaGenerator.kindSchema(definition).serialized() + "\n")
        return 0
    }
}

/// `setpoint version`.
struct VersionCommand: ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print Setpoint's version and the manifest API it reads."
    )

    func execute(_ console: Console) async throws -> Int32 {
        console.out(
            "setpoint \(SetpointCLI.version) (manifests: \(KindRegistry.apiVersion); kinds: \(KindRegistry.v1.count))\n"
        )
        return 0
    }
}
