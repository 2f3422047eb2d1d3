import Foundation
public import SetpointCore

/// Renders the result of `setpoint validate` as versioned JSON (`formatVersion`), one object.
public struct DiagnosticJSONRenderer: Sendable {
    public static let formatVersion = 1

    public init() {}

    struct Document: Encodable {
        var formatVersion: Int
        var valid: Bool
        var summary: Summary
        var diagnostics: [Entry]
    }

    struct Summary: Encodable {
        var files: Int
        var resources: Int
        var skippedDocuments: Int
        var errors: Int
        var warnings: Int
        var notes: Int
    }

    struct Entry: Encodable {
        var severity: String
        var code: String
        var summary: String
        var hint: String?
        var file: String?
        var line: Int?
        var column: Int?
        var resource: String?
    }

    public func render(diagnostics: [Diagnostic], resources: Int, files: Int, skipped: Int) -> String {
        let doc = Document(
            formatVersion: Self.formatVersion,
            valid: !diagnostics.hasErrors,
            summary: Summary(
                files: files,
                resources: resources,
                skippedDocuments: skipped,
                errors: diagnostics.count(.error),
                warnings: diagnostics.count(.warning),
                notes: diagnostics.count(.note)
            ),
            diagnostics: diagnostics.map {
                Entry(
                    severity: $0.severity.rawValue,
                    code: $0.code.rawValue,
                    summary: $0.summary,
                    hint: $0.hint,
                    file: $0.location?.file,
                    line: $0.location?.line,
                    column: $0.location?.column,
                    resource: $0.resource?.description
                )
            }
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(doc)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
