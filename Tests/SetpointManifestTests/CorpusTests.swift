import Foundation
import SetpointCore
import SetpointManifest
import SetpointTesting
import Testing

/// A corpus case: a manifest file whose header says what Setpoint and the JSON Schema must make of it.
///
/// ```yaml
/// # case: unknown field in a PostgresCluster spec
/// # schema: reject | decoder-only | n/a | accept
/// # expect: SP1003 12:3
/// ```
struct CorpusCase: CustomTestStringConvertible, Sendable {
    enum SchemaExpectation: String, Sendable {
        case reject
        case decoderOnly = "decoder-only"
        case notApplicable = "n/a"
        case accept
    }

    let path: String
    let summary: String
    let schema: SchemaExpectation
    /// Every diagnostic expected, as "SP1003 12:3", sorted.
    let expected: [String]

    var name: String { (path as NSString).lastPathComponent }
    var testDescription: String { "\(name): \(summary)" }

    static func load(_ folder: String) -> [CorpusCase] {
        let dir = RepoPaths.path("Tests/SetpointManifestTests/Corpus/\(folder)")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted().compactMap { name in
            let path = dir + "/" + name
            guard let text = FileManager.default.contents(atPath: path).map({ String(decoding: $0, as: UTF8.self) })
            else { return nil }
            var summary = ""
            var schema = SchemaExpectation.accept
            var expected: [String] = []
            for line in text.split(separator: "\n").prefix(while: { $0.hasPrefix("#") }) {
                let body = line.dropFirst().trimmingCharacters(in: .whitespaces)
                if body.hasPrefix("case:") { summary = body.dropFirst(5).trimmingCharacters(in: .whitespaces) }
                if body.hasPrefix("schema:") {
                    schema =
                        SchemaExpectation(rawValue: body.dropFirst(7).trimmingCharacters(in: .whitespaces)) ?? .accept
                }
                if body.hasPrefix("expect:") { expected.append(body.dropFirst(7).trimmingCharacters(in: .whitespaces)) }
            }
            return CorpusCase(path: path, summary: summary, schema: schema, expected: expected.sorted())
        }
    }

    static let invalid = load("invalid")
    static let valid = load("valid")
}

/// Results of the real JSON Schema validator (python-jsonschema) over files, one run for many files.
enum SchemaCheck {
    struct Document: Decodable {
        var file: String
        var document: Int?
        var valid: Bool?
        var errors: [String]?
        var yamlError: String?
    }

    static func isAvailable() async -> Bool { await ExternalTool.pythonHas(["jsonschema", "yaml"]) }

    /// Runs scripts/schema-check.py on paths; returns results by file.
    static func run(_ paths: [String]) async throws -> [String: [Document]] {
        let result = try #require(
            await ExternalTool.run(
                "python3",
                [RepoPaths.path("scripts/schema-check.py"), "--schemas", RepoPaths.path("schemas")] + paths
            )
        )
        #expect(result.stderr.isEmpty, "schema-check.py: \(result.stderr)")
        var byFile: [String: [Document]] = [:]
        for line in result.stdout.split(separator: "\n") {
            let doc = try JSONDecoder().decode(Document.self, from: Data(line.utf8))
            byFile[doc.file, default: []].append(doc)
        }
        return byFile
    }
}

@Suite(.timeLimit(.minutes(2))) struct CorpusTests {
    @Test func corpusIsThere() {
        #expect(CorpusCase.invalid.count >= 40, "the invalid corpus has \(CorpusCase.invalid.count) cases")
        #expect(CorpusCase.valid.count >= 5)
        for c in CorpusCase.invalid {
            #expect(!c.expected.isEmpty, "\(c.name) expects no diagnostic")
            #expect(c.schema != .accept, "\(c.name): an invalid case must say how the schema treats it")
        }
    }

    @Test(arguments: CorpusCase.invalid + CorpusCase.valid)
    func decoderReportsExactlyTheExpectedDiagnostics(_ c: CorpusCase) {
        let set = ManifestLoader().load(paths: [c.path])
        let got = set.diagnostics.map { d in
            "\(d.code) \(d.location.map { "\($0.line):\($0.column)" } ?? "-")"
        }.sorted()
        let listing = set.diagnostics.map { "  \($0.code) \($0.location?.description ?? "") \($0.summary)" }.joined(
            separator: "\n"
        )
        #expect(got == c.expected, "\(c.name): \(c.summary)\n\(listing)")
        for d in set.diagnostics where d.severity == .error {
            #expect(
                d.hint != nil || d.code == .yamlSyntax || d.code == .invalidValue || d.code == .wrongType,
                "\(c.name): \(d.code) '\(d.summary)' has no hint"
            )
        }
    }

    @Test(.enabled("needs python3 with jsonschema and PyYAML") { await SchemaCheck.isAvailable() || ExternalTool.isCI })
    func jsonSchemaAgreesWithTheDecoder() async throws {
        let cases = (CorpusCase.invalid + CorpusCase.valid).filter { $0.schema != .notApplicable }
        let results = try await SchemaCheck.run(cases.map(\.path))
        for c in cases {
            let docs = results[c.path] ?? []
            let rejected = docs.contains { $0.valid == false || $0.yamlError != nil }
            switch c.schema {
            case .reject:
                #expect(rejected, "\(c.name): the decoder rejects it, the JSON Schema must too")
            case .decoderOnly, .accept:
                #expect(!docs.isEmpty, "\(c.name): the schema checker saw no setpoint document")
                #expect(!rejected, "\(c.name): the JSON Schema must accept it: \(docs.flatMap { $0.errors ?? [] })")
            case .notApplicable:
                break
            }
        }
    }
}
