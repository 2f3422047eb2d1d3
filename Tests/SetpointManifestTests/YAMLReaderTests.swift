import SetpointCore
import SetpointManifest
import Testing

@Suite struct YAMLReaderTests {
    func read(_ text: String, limits: LoaderLimits = .default) -> ([YAMLDocument], [Diagnostic]) {
        var diagnostics: [Diagnostic] = []
        let docs = YAMLReader(limits: limits).read(Array(text.utf8), file: "t.yaml", diagnostics: &diagnostics)
        return (docs, diagnostics)
    }

    @Test func keepsPositionsOfKeysAndValues() throws {
        let (docs, diags) = read("a: 1\nb:\n  c: [x, \"y\"]\n---\n- z\n")
        #expect(diags.isEmpty)
        #expect(docs.count == 2)
        let root = try #require(docs[0].root)
        let b = try #require(root.pair("b"))
        #expect((b.key.line, b.key.column) == (2, 1))
        let c = try #require(b.value.pair("c"))
        #expect((c.key.line, c.key.column) == (3, 3))
        guard case .sequence(let items) = c.value.content else { Issue.record("not a sequence"); return }
        #expect((items[1].line, items[1].column) == (3, 10))
        #expect(items[1].scalar?.style == .doubleQuoted)
        #expect(docs[1].line == 4)
    }

    @Test func refusesAliasesWithoutExpandingThem() {
        // "Billion laughs": expanding this would take minutes and gigabytes.
        var text = "apiVersion: setpoint/v1\na: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
        for i in 1...9 {
            let prev = i == 1 ? "a" : "l\(i - 1)"
            text += "l\(i): &l\(i) [" + Array(repeating: "*\(prev)", count: 9).joined(separator: ",") + "]\n"
        }
        let (docs, diags) = read(text)
        #expect(docs.count == 1)
        #expect(docs[0].isRefused)
        #expect(docs[0].root == nil)
        #expect(diags.map(\.code) == [.aliasRefused], "one diagnostic per document, at the first anchor")
        #expect(diags.first?.location?.line == 2)
        #expect(diags.first?.location?.column == 4)
    }

    @Test func foreignDocumentsMayUseAnchors() throws {
        // A CI workflow beside the manifests: not ours, so not refused; the alias is still never expanded.
        let (docs, diags) = read("on: push\ndefaults: &d {shell: bash}\njobs: {a: {defaults: *d}}\n")
        #expect(diags.isEmpty)
        let root = try #require(docs.first?.root)
        #expect(docs.first?.isRefused == false)
        #expect(root["jobs"]?["a"]?["defaults"]?.scalar?.text == "", "the alias is a placeholder, not a copy")
    }

    @Test func refusesDeepNestingAtTheLimit() {
        let depth = 10
        let text = String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "\n"
        let (ok, okDiags) = read(text, limits: LoaderLimits(maxDepth: depth))
        #expect(okDiags.isEmpty)
        #expect(ok.first?.root != nil)
        let (refused, diags) = read(text, limits: LoaderLimits(maxDepth: depth - 1))
        #expect(refused.first?.isRefused == true)
        #expect(diags.map(\.code) == [.nestingTooDeep])
        #expect(diags.first?.location?.column == depth, "reported at the first container past the limit")
    }

    @Test func reportsDuplicateKeysWithTheFirstPosition() {
        let (_, diags) = read("a: 1\nb: 2\na: 3\n")
        #expect(diags.map(\.code) == [.duplicateKey])
        #expect(diags.first?.location?.line == 3)
        #expect(diags.first?.summary.contains("first at line 1") == true)
    }

    @Test func syntaxErrorKeepsEarlierDocuments() {
        let (docs, diags) = read("a: 1\n---\nb: [1, 2\nc: 3\n")
        #expect(docs.count == 1, "the document before the error is kept")
        #expect(diags.map(\.code) == [.yamlSyntax])
        #expect(diags.first?.location?.line == 4)
    }
}
