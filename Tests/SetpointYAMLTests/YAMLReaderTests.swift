import Foundation
import SetpointCore
import SetpointTesting
import SetpointYAML
import Testing

@Suite(.timeLimit(.minutes(2))) struct YAMLReaderTests {
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
        guard case .sequence(let items) = c.value.content else {
            Issue.record("not a sequence")
            return
        }
        #expect((items[1].line, items[1].column) == (3, 10))
        #expect(items[1].scalar?.style == .doubleQuoted)
        #expect(docs[1].line == 4)
    }

    @Test func refusesAliasesWithoutExpandingThem() {
        // "Billion laughs": expanding this would take minutes and gigabytes.
        var text =
            "apiVersion: setpoint/v1\na: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
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
        #expect(refused.isEmpty, "flow nesting past the limit is refused before parsing, with the rest of the file")
        #expect(diags.map(\.code) == [.nestingTooDeep])
        #expect(diags.first?.location?.column == depth, "reported at the first container past the limit")
        // Block nesting is refused by the tree builder: the document is kept as refused, the file read on.
        let block =
            (0..<depth).map { String(repeating: "  ", count: $0) + "k\($0):" }.joined(separator: "\n")
            + " 1\n---\nnext: 1\n"
        let (blockDocs, blockDiags) = read(block, limits: LoaderLimits(maxDepth: depth - 1))
        #expect(blockDocs.first?.isRefused == true)
        #expect(blockDocs.count == 2)
        #expect(blockDiags.map(\.code) == [.nestingTooDeep])
    }

    @Test func reportsDuplicateKeysWithTheFirstPosition() {
        let (_, diags) = read("a: 1\nb: 2\na: 3\n")
        #expect(diags.map(\.code) == [.duplicateKey])
        #expect(diags.first?.location?.line == 3)
        #expect(diags.first?.summary.contains("first at line 1") == true)
    }

    /// Keys inside a subtree refused for its depth are not kept, so they cannot be paired up as false duplicates.
    @Test func keysUnderARefusedSubtreeAreNotDuplicates() {
        // Under the refused mapping the keys differ but the values repeat: paired up wrongly, they were "duplicates".
        let text =
            "apiVersion: setpoint/v1\nx:\n  a:\n    a:\n      a:\n        k: 1\n        j: 1\n        l: 1\ny: {k: 1, k2: {k: 2, k: 3}}\n"
        let (docs, diags) = read(text, limits: LoaderLimits(maxDepth: 4))
        #expect(docs.first?.isRefused == true)
        #expect(
            diags.filter { $0.code == .duplicateKey }.count == 1,
            "only the real duplicate on line 9: \(diags.map(\.summary))"
        )
        #expect(diags.first { $0.code == .duplicateKey }?.location?.line == 9)
        #expect(diags.filter { $0.code == .nestingTooDeep }.count == 1)
    }

    /// Flow nesting past the limit stops the reading at once: libyaml's cost there is quadratic (200 KB of `[` took 23 s),
    /// so it never gets further than the limit. The documents before the one holding it are kept; the rest of the file
    /// is not read.
    @Test func deepFlowNestingStopsTheReadingAtTheLimit() throws {
        let bomb = String(repeating: "[", count: 2 << 20)
        let text = "a: 1\n---\nb: 2\n---\nc: \(bomb)\n---\nd: 4\n"
        let (docs, diags) = read(text, limits: LoaderLimits(maxDepth: 8))
        #expect(docs.count == 2, "the two documents before the bomb")
        #expect(docs.compactMap { $0.root?.pair("b") }.count == 1)
        #expect(diags.map(\.code) == [.nestingTooDeep])
        let at = try #require(diags.first?.location)
        #expect((at.line, at.column) == (5, 3 + 8), "at the bracket that opens level 9 (the mapping is level 1)")
    }

    /// Inside quotes, comments, block scalars and plain scalars a `[` is text: valid YAML with many of them loads.
    @Test func bracketsThatAreTextAreNotNesting() {
        let many = String(repeating: "[", count: 70)
        let texts = [
            "a: '\(many)'\n", "a: \"\(many)\\\"\(many)\"\n", "a: 1 # \(many)\n", "a: |\n  \(many)\n  \(many)\nb: 2\n",
            "a: >-\n    \(many)\n\n    x\nb: 2\n", "a: x\(many)\n", "a: rate(x[5m]) \(many)\n",
            "a: plain\n  \(many) continued\nb: 1\n",
            "a: 'it''s \(many)\n  still quoted'\n", "- |\n  \(many)\n- x\n", "a: [\"\(many)\", x # \(many)\n  ]\n",
            "a: don't \(many)\n", "key:\n  |\n   \(many)\nb: 1\n", "key:\n    value\n  \(many)\n",
            "key: |1\n   a\n \(many)\n",
            "!!str key: value\n  \(many)\n", "[\"x\"#\(many)\n]\n", "k: [!<tag:\(many)> x]\n",
        ]
        for text in texts {
            let (_, diags) = read(text, limits: LoaderLimits(maxDepth: 64))
            #expect(!diags.contains { $0.code == .nestingTooDeep }, "\(text.debugDescription): \(diags.map(\.summary))")
        }
    }

    /// Deep flow nesting however it is dressed up — after quotes, plain scalars, block scalars, tags, complex keys,
    /// in UTF-16 — is what libyaml itself reports as nested collections, so it stops the reading.
    @Test func deepFlowNestingIsFoundHoweverItIsWritten() {
        let bomb = String(repeating: "[", count: 5_000)
        let texts = [
            "a: don't\nb: \(bomb)\n", "a: |\n  x\nb: \(bomb)\n", "key:\n  |\n  x\nb: \(bomb)\n", "a: 'x'\nb: \(bomb)\n",
            "a: \"x\\\"\"\nb: \(bomb)\n", "a: x # y\nb: \(bomb)\n", "a: |\rb: \(bomb)\n", "a: |\u{85}b: \(bomb)\n",
            "a: !!seq \(bomb)\n", "a: &x \(bomb)\n", "- - \(bomb)\n", "a:\n  - b: |\n      x\n    c: \(bomb)\n",
            "a: [x, \(bomb)]\n", "a: {\"k\":\(bomb)}\n", "a: plain\n  more\nb: \(bomb)\n", "--- |\n x\n--- \(bomb)\n",
            "[a 'b, \(bomb)", "? a\n: b\n? \(bomb)\n", String(repeating: "[!<]> ", count: 5_000),
            "key:\n    value\n  [x\ny: e 'f\ng: \(bomb)\n",
            "%YAML 1.1\n---\nk: \(bomb)\n",
        ]
        for text in texts {
            let (_, diags) = read(text, limits: LoaderLimits(maxDepth: 64))
            #expect(
                diags.contains { $0.code == .nestingTooDeep },
                "\(text.prefix(60).debugDescription): \(diags.map(\.summary))"
            )
        }
        // UTF-16, which libyaml decodes itself.
        var utf16: [UInt8] = [0xFF, 0xFE]
        for unit in ("k: " + bomb).utf16 { utf16 += [UInt8(unit & 0xFF), UInt8(unit >> 8)] }
        var diagnostics: [Diagnostic] = []
        _ = YAMLReader(limits: LoaderLimits(maxDepth: 64)).read(utf16, file: "t.yaml", diagnostics: &diagnostics)
        #expect(diagnostics.map(\.code) == [.nestingTooDeep])
    }

    @Test func syntaxErrorKeepsEarlierDocuments() {
        let (docs, diags) = read("a: 1\n---\nb: [1, 2\nc: 3\n")
        #expect(docs.count == 1, "the document before the error is kept")
        #expect(diags.map(\.code) == [.yamlSyntax])
        #expect(diags.first?.location?.line == 4)
    }
}
