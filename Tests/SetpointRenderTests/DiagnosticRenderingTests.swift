import Foundation
import SetpointCore
import SetpointManifest
import SetpointRender
import SetpointTesting
import Testing

@Suite(.timeLimit(.minutes(2))) struct DiagnosticRenderingTests {
    static let manifest = """
        apiVersion: setpoint/v1
        kind: PostgresCluster
        metadata:
          name: main-db
        spec:
          primary: pg-1
          replica_count: 2
          members:
            - name: pg-1
              host: 10.0.0.1
        ---
        apiVersion: setpoint/v1
        kind: VirtualMachine
        metadata: {name: api-1}
        spec:
          cluster: pve-main
          memory: 4G
          description: no
          disks:
            scsi0: {storage: local-lvm, size: "32Gx"}
        ---
        apiVersion: v1
        kind: ConfigMap

        """

    static let set = ManifestLoader().load(text: manifest, file: "db.yaml")

    static func renderer(_ style: TerminalStyle) -> DiagnosticTextRenderer {
        let lines = manifest.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        return DiagnosticTextRenderer(style: style) { file, line in
            file == "db.yaml" && line >= 1 && line <= lines.count ? lines[line - 1] : nil
        }
    }

    @Test func firstLineHasTheFormatEditorsUnderstand() {
        let text = Self.renderer(.plain).render(Self.set.diagnostics)
        #expect(text.contains("db.yaml:7:3: error[SP1003]: unknown field 'replica_count' in PostgresCluster/main-db\n"))
        #expect(text.contains(" 7 |   replica_count: 2\n   |   ^~~~~~~~~~~~~\n"))
        #expect(!text.contains("\u{1B}["), "no escape codes without a terminal")
    }

    @Test func plainText() {
        let r = Self.renderer(.plain)
        let s = Self.set
        assertSnapshot(
            r.render(s.diagnostics)
                + r.summary(
                    resources: s.resources.count,
                    files: 1,
                    skipped: s.skippedDocuments,
                    diagnostics: s.diagnostics
                ),
            named: "diagnostics.txt"
        )
    }

    @Test func colouredText() {
        let r = Self.renderer(TerminalStyle(isEnabled: true))
        let text = r.render(Self.set.diagnostics)
        #expect(text.contains("\u{1B}[1;31merror[SP1003]\u{1B}[0m"))
        assertSnapshot(text, named: "diagnostics-colour.txt")
    }

    @Test func json() {
        let s = Self.set
        let text = DiagnosticJSONRenderer().render(
            diagnostics: s.diagnostics,
            resources: s.resources.count,
            files: 1,
            skipped: s.skippedDocuments
        )
        #expect(text.contains("\"formatVersion\" : 1"))
        assertSnapshot(text, named: "diagnostics.json")
    }

    @Test(arguments: [
        (true, [String: String](), true, "a terminal gets colour"),
        (false, [:], false, "a pipe gets none"),
        (true, ["NO_COLOR": "1"], false, "NO_COLOR turns it off"),
        (true, ["NO_COLOR": ""], false, "NO_COLOR set to anything, even empty"),
        (true, ["TERM": "dumb"], false, "a dumb terminal gets none"),
    ])
    func colourRules(_ isTerminal: Bool, _ env: [String: String], _ expected: Bool, _ reason: String) {
        #expect(TerminalStyle.detect(isTerminal: isTerminal, environment: env).isEnabled == expected, "\(reason)")
    }
    /// A hostile file: thousands of duplicate keys on one 48 KB line. Rendering is bounded and linear: at most
    /// `perFileLimit` diagnostics per file, each snippet a window around its column (it was 577 MB of text).
    @Test func manyProblemsOnOneLongLinePrintABoundedScreenful() throws {
        let keys = (0..<8000).map { _ in "a: 1" }.joined(separator: ", ")
        let text = "apiVersion: setpoint/v1\nkind: ResourcePool\nmetadata: {name: p}\nspec: {\(keys)}\n"
        let set = ManifestLoader().load(text: text, file: "hostile.yaml")
        let duplicates = set.diagnostics.filter { $0.code == .duplicateKey }
        #expect(duplicates.count == 7999, "every problem is still found and in the JSON output")
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let rendered = DiagnosticTextRenderer { _, n in n >= 1 && n <= lines.count ? lines[n - 1] : nil }.render(
            set.diagnostics
        )
        #expect(rendered.utf8.count < 50 * 600, "\(rendered.utf8.count) bytes")
        #expect(
            rendered.contains("more diagnostics in hostile.yaml not shown (the first 50 are; --output json lists all)")
        )
        let snippets = rendered.split(separator: "\n").filter { $0.contains(" 4 | ") }
        #expect(snippets.count == 50)
        #expect(snippets.allSatisfy { $0.count < DiagnosticTextRenderer.snippetWidth + 20 })
        // The caret still points at the key: the snippet's window starts a third of its width before it.
        let block = try #require(rendered.components(separatedBy: "hostile.yaml:4:").dropFirst(3).first)
        let snippetLines = block.split(separator: "\n").map(String.init)
        let source = try #require(snippetLines.first { $0.contains(" 4 | ") })
        let caret = try #require(snippetLines.first { $0.contains("^") })
        let at = source.distance(from: source.startIndex, to: source.firstIndex(of: "|")!)
        let caretColumn = caret.distance(from: caret.startIndex, to: caret.firstIndex(of: "^")!)
        let pointed = source.dropFirst(caretColumn).prefix(1)
        #expect(pointed == "a", "caret under the duplicate key: \(source) / \(caret) (gutter at \(at))")
    }

    @Test func longSummariesAreCut() {
        let name = String(repeating: "K", count: 100_000)
        let set = ManifestLoader().load(
            text: "apiVersion: setpoint/v1\nkind: \(name)\nmetadata: {name: x}\nspec: {}\n",
            file: "k.yaml"
        )
        let text = DiagnosticTextRenderer().render(set.diagnostics)
        #expect(set.diagnostics.contains { $0.code == .unknownKind })
        #expect(text.utf8.count < 2_000)
        #expect(text.contains("more bytes)"))
    }

    @Test func snippetsNeverPrintTheCredentialsOfAURL() {
        let line = "  endpoints: [\"https://root:hunter2@pve1:8006\", http://u@h/x]"
        let d = Diagnostic(
            .error,
            .invalidValue,
            "credentials in a URL",
            at: SourceLocation(file: "c.yaml", line: 1, column: 16)
        )
        let text = DiagnosticTextRenderer { _, _ in line }.render([d])
        #expect(!text.contains("hunter2") && !text.contains("root:") && !text.contains("u@"))
        #expect(text.contains("https://************@pve1:8006"))
        #expect(
            text.contains(" 1 |   endpoints: [\"https://****"),
            "the columns are kept, so the caret stays under the URL"
        )
    }

}
