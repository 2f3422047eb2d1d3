import CYAML
public import SetpointCore

/// Reads YAML text into `SourceNode` trees straight from libyaml's event stream.
///
/// Anchors and aliases are refused as they are met — no alias is ever expanded — and nesting deeper than
/// the limit stops tree building for that document. Duplicate keys are reported. A syntax error ends the
/// file: documents before it are kept.
public struct YAMLReader: Sendable {
    public var limits: LoaderLimits

    public init(limits: LoaderLimits = .default) {
        self.limits = limits
    }

    /// Reads every document of `bytes`, appending problems to `diagnostics`.
    public func read(_ bytes: [UInt8], file: String, diagnostics: inout [Diagnostic]) -> [YAMLDocument] {
        read(bytes, range: bytes.indices, firstLine: 1, file: file, diagnostics: &diagnostics).documents
    }

    /// Reads the documents of `bytes[range]`, a part of a file that starts on line `firstLine` (1-based) at a
    /// document boundary (see `YAMLChunks`). Reports whether a syntax error ended the part early.
    public func read(
        _ bytes: [UInt8],
        range: Range<Int>,
        firstLine: Int,
        file: String,
        diagnostics: inout [Diagnostic]
    ) -> (documents: [YAMLDocument], syntaxError: Bool) {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            diagnostics.append(
                Diagnostic(
                    .error,
                    .yamlSyntax,
                    "could not initialise the YAML parser",
                    at: SourceLocation(file: file, line: 1, column: 1)
                )
            )
            return ([], true)
        }
        defer { yaml_parser_delete(&parser) }
        let lineOffset = firstLine - 1
        return bytes.withUnsafeBufferPointer { whole in
            let buffer = UnsafeBufferPointer(rebasing: whole[range])
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var builder = TreeBuilder(file: file, maxDepth: limits.maxDepth, lineOffset: Int32(lineOffset))
            var event = yaml_event_t()
            var failed = false
            while true {
                guard yaml_parser_parse(&parser, &event) == 1 else {
                    diagnostics.append(syntaxError(parser, file: file, lineOffset: lineOffset))
                    builder.abandonDocument()
                    failed = true
                    break
                }
                let done = event.type == YAML_STREAM_END_EVENT
                builder.consume(&event)
                yaml_event_delete(&event)
                if done { break }
                if builder.stoppedForFlowDepth {
                    // libyaml's scanner walks every open flow level for each token: deep flow nesting costs quadratic
                    // time, so reading stops at the first flow collection past the limit (the cost is bounded by the
                    // limit, not by the file). Like a syntax error it ends the file; the documents before are kept.
                    failed = true
                    break
                }
            }
            diagnostics.append(contentsOf: builder.diagnostics)
            return (builder.documents, failed)
        }
    }

    private func syntaxError(_ parser: yaml_parser_t, file: String, lineOffset: Int) -> Diagnostic {
        let problem = parser.problem.map { String(cString: $0) } ?? "invalid YAML"
        var mark = parser.problem_mark
        var summary = problem
        if let context = parser.context.map({ String(cString: $0) }) {
            let c = parser.context_mark
            if parser.error == YAML_SCANNER_ERROR {
                // A scanner error ("while scanning a quoted scalar") starts where the token starts; the problem
                // mark is where the scanner gave up, often lines later.
                mark = c
                summary =
                    "\(context): \(problem) (gave up at line \(parser.problem_mark.line + 1 + lineOffset), column \(parser.problem_mark.column + 1))"
            } else {
                summary = "\(problem) \(context) (line \(c.line + 1 + lineOffset), column \(c.column + 1))"
            }
        }
        return Diagnostic(
            .error,
            .yamlSyntax,
            "YAML syntax error: \(summary)",
            hint: "check the indentation and quoting on this line and the one above it",
            at: SourceLocation(file: file, line: Int(mark.line) + 1 + lineOffset, column: Int(mark.column) + 1)
        )
    }
}

/// Turns events into nodes with an explicit stack (no recursion, so depth is bounded by `maxDepth` alone).
private struct TreeBuilder {
    /// An open mapping or sequence, mutated in place (no enum payload to take apart and rebuild per child).
    struct Frame {
        var isMapping: Bool
        var pairs: [SourceNode.Pair] = []
        var items: [SourceNode] = []
        var pendingKey: SourceNode?
        var line: Int32
        var column: Int32
    }

    let file: String
    let maxDepth: Int
    var documents: [YAMLDocument] = []
    var diagnostics: [Diagnostic] = []

    private var stack: [Frame] = []
    private var root: SourceNode?
    private var documentLine = 1
    private var inDocument = false
    private var refused = false
    /// Depth of containers skipped because the document was refused for nesting.
    private var skippedDepth = 0
    private var aliasReported = 0
    /// The first anchor or alias of the document, reported at its end if the document is a setpoint one.
    private var anchorDiagnostic: Diagnostic?
    private var nestingRefused = false
    /// A flow collection opened past the limit: the reader stops (see `read`).
    private(set) var stoppedForFlowDepth = false
    /// Whether each open collection (kept or skipped) is a flow one, and how many are.
    private var openIsFlow: [Bool] = []
    private var flowDepth = 0

    /// Added to libyaml's line numbers when reading a part of a file.
    let lineOffset: Int32

    init(file: String, maxDepth: Int, lineOffset: Int32 = 0) {
        self.file = file
        self.maxDepth = maxDepth
        self.lineOffset = lineOffset
    }

    mutating func consume(_ event: inout yaml_event_t) {
        let line = Int32(event.start_mark.line) + 1 + lineOffset
        let column = Int32(event.start_mark.column) + 1
        switch event.type {
        case YAML_DOCUMENT_START_EVENT:
            inDocument = true
            refused = false
            root = nil
            stack.removeAll()
            openIsFlow.removeAll()
            flowDepth = 0
            skippedDepth = 0
            aliasReported = 0
            anchorDiagnostic = nil
            nestingRefused = false
            documentLine = Int(line)
        case YAML_DOCUMENT_END_EVENT:
            // Anchors are refused only in setpoint documents; other YAML beside manifests (a CI workflow using
            // anchors) is skipped later like any foreign document. Aliases were never expanded either way.
            if let anchorDiagnostic, !nestingRefused {
                if isSetpointDocument(root) {
                    diagnostics.append(anchorDiagnostic)
                    documents.append(YAMLDocument(root: nil, line: documentLine, isRefused: true))
                } else {
                    documents.append(YAMLDocument(root: root, line: documentLine, isRefused: false))
                }
            } else {
                documents.append(YAMLDocument(root: refused ? nil : root, line: documentLine, isRefused: refused))
            }
            inDocument = false
        case YAML_ALIAS_EVENT where skippedDepth > 0, YAML_SCALAR_EVENT where skippedDepth > 0:
            // Inside a subtree refused for its depth: nothing is kept, so nothing is paired as a key or compared.
            return
        case YAML_ALIAS_EVENT:
            let name = event.data.alias.anchor.map { String(cString: $0) } ?? ""
            refuseAnchor("alias '*\(name)'", line: line, column: column)
            add(SourceNode(.scalar(.init(text: "", style: .plain)), line: line, column: column))
        case YAML_SCALAR_EVENT:
            let s = event.data.scalar
            if let anchor = s.anchor {
                refuseAnchor("anchor '&\(String(cString: anchor))'", line: line, column: column)
            }
            let text = String(decoding: UnsafeBufferPointer(start: s.value, count: s.length), as: UTF8.self)
            let style: SourceNode.ScalarStyle =
                switch s.style {
                case YAML_SINGLE_QUOTED_SCALAR_STYLE: .singleQuoted
                case YAML_DOUBLE_QUOTED_SCALAR_STYLE: .doubleQuoted
                case YAML_LITERAL_SCALAR_STYLE: .literal
                case YAML_FOLDED_SCALAR_STYLE: .folded
                default: .plain
                }
            let tag = s.tag.map { String(cString: $0) }
            add(SourceNode(.scalar(.init(text: text, style: style, tag: tag)), line: line, column: column))
        case YAML_MAPPING_START_EVENT, YAML_SEQUENCE_START_EVENT:
            let isMapping = event.type == YAML_MAPPING_START_EVENT
            let anchor = isMapping ? event.data.mapping_start.anchor : event.data.sequence_start.anchor
            if let anchor { refuseAnchor("anchor '&\(String(cString: anchor))'", line: line, column: column) }
            let isFlow =
                isMapping
                ? event.data.mapping_start.style == YAML_FLOW_MAPPING_STYLE
                : event.data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE
            // libyaml's cost grows with the flow level (its scanner walks one possible key per open flow collection for
            // every token), not with block nesting: flow collections past the limit stop the reading.
            openIsFlow.append(isFlow)
            if isFlow { flowDepth += 1 }
            if isFlow, flowDepth > maxDepth {
                // Once the document was refused for its depth the problem is reported; the reading still stops.
                if !nestingRefused {
                    diagnostics.append(
                        Diagnostic(
                            .error,
                            .nestingTooDeep,
                            "nesting deeper than \(maxDepth) levels",
                            hint:
                                "manifests never need this depth: flow collections ([ and {) nested this deep stop the reading; this "
                                + "document and the rest of the file are not read",
                            at: SourceLocation(file: file, line: Int(line), column: Int(column))
                        )
                    )
                }
                stoppedForFlowDepth = true
                abandonDocument()
                return
            }
            if skippedDepth > 0 || stack.count >= maxDepth {
                if skippedDepth == 0 {
                    diagnostics.append(
                        Diagnostic(
                            .error,
                            .nestingTooDeep,
                            "nesting deeper than \(maxDepth) levels",
                            hint: "manifests never need this depth; the document is refused",
                            at: SourceLocation(file: file, line: Int(line), column: Int(column))
                        )
                    )
                    refused = true
                    nestingRefused = true
                }
                skippedDepth += 1
                return
            }
            stack.append(Frame(isMapping: isMapping, line: line, column: column))
        case YAML_MAPPING_END_EVENT, YAML_SEQUENCE_END_EVENT:
            if openIsFlow.popLast() == true { flowDepth -= 1 }
            if skippedDepth > 0 {
                skippedDepth -= 1
                if skippedDepth == 0 {
                    add(SourceNode(.scalar(.init(text: "", style: .plain)), line: line, column: column))
                }
                return
            }
            guard let frame = stack.popLast() else { return }
            if frame.isMapping {
                checkDuplicateKeys(frame.pairs)
                add(SourceNode(.mapping(frame.pairs), line: frame.line, column: frame.column))
            } else {
                add(SourceNode(.sequence(frame.items), line: frame.line, column: frame.column))
            }
        default:
            break
        }
    }

    /// Called on a syntax error: keeps nothing of the broken document.
    mutating func abandonDocument() {
        stack.removeAll()
        root = nil
    }

    private func isSetpointDocument(_ root: SourceNode?) -> Bool {
        guard let api = root?["apiVersion"]?.scalar else { return false }
        return api.text.hasPrefix("setpoint/")
    }

    private mutating func refuseAnchor(_ what: String, line: Int32, column: Int32) {
        refused = true
        aliasReported += 1
        guard aliasReported == 1 else { return }
        anchorDiagnostic =
            (Diagnostic(
                .error,
                .aliasRefused,
                "YAML \(what) refused: manifests may not use anchors or aliases",
                hint:
                    "write the values out in full; aliases can expand exponentially (\"billion laughs\") and are never expanded",
                at: SourceLocation(file: file, line: Int(line), column: Int(column))
            ))
    }

    private mutating func add(_ node: SourceNode) {
        guard !stack.isEmpty else {
            root = node
            return
        }
        let top = stack.count - 1
        guard stack[top].isMapping else {
            stack[top].items.append(node)
            return
        }
        if let key = stack[top].pendingKey {
            stack[top].pendingKey = nil
            stack[top].pairs.append(SourceNode.Pair(key: key, value: node))
        } else {
            stack[top].pendingKey = node
        }
    }

    private mutating func checkDuplicateKeys(_ pairs: [SourceNode.Pair]) {
        guard pairs.count > 1 else { return }
        if pairs.count <= 16 {
            // Small mappings (nearly all of them): compare keys pairwise, no hashing, no allocation.
            for j in 1..<pairs.count {
                guard case .scalar(let key) = pairs[j].key.content else { continue }
                for i in 0..<j {
                    guard case .scalar(let earlier) = pairs[i].key.content, earlier.text == key.text else { continue }
                    diagnostics.append(
                        Diagnostic(
                            .error,
                            .duplicateKey,
                            "duplicate key '\(key.text)' (first at line \(pairs[i].key.line))",
                            hint: "a key may appear once per mapping; remove or merge one of them",
                            at: SourceLocation(
                                file: file,
                                line: Int(pairs[j].key.line),
                                column: Int(pairs[j].key.column)
                            )
                        )
                    )
                    break
                }
            }
            return
        }
        var seen: [String: SourceNode] = [:]
        seen.reserveCapacity(pairs.count)
        for pair in pairs {
            guard let key = pair.key.scalar?.text else { continue }
            if let first = seen[key] {
                diagnostics.append(
                    Diagnostic(
                        .error,
                        .duplicateKey,
                        "duplicate key '\(key)' (first at line \(first.line))",
                        hint: "a key may appear once per mapping; remove or merge one of them",
                        at: SourceLocation(file: file, line: Int(pair.key.line), column: Int(pair.key.column))
                    )
                )
            } else {
                seen[key] = pair.key
            }
        }
    }
}

/// Splits a large file into parts at document starts, so that its parts can be parsed in parallel.
///
/// A line that starts with `---` followed by a blank or the end of the line is a document start wherever it
/// appears (YAML 1.1/1.2: it ends any scalar, and libyaml treats it so in every context), so parsing the parts
/// separately gives the same documents as parsing the whole. Not split: files with directives (`%YAML`, `%TAG`,
/// which belong to the document after them), UTF-16 files, and files with line breaks other than LF and CRLF
/// (lone CR, NEL, LS, PS), whose line numbers this simple count would get wrong.
public enum YAMLChunks {
    /// Parts of `bytes` of about `target` bytes each, as byte ranges with the 1-based line each starts on.
    public static func split(_ bytes: [UInt8], target: Int) -> [(range: Range<Int>, firstLine: Int)] {
        guard bytes.count > target * 2, !hasUnusualEncoding(bytes) else { return [(bytes.indices, 1)] }
        var parts: [(range: Range<Int>, firstLine: Int)] = []
        var start = 0
        var startLine = 1
        var line = 1
        var i = 0
        let n = bytes.count
        while i < n {
            // at the start of a line
            if bytes[i] == UInt8(ascii: "%") { return [(bytes.indices, 1)] }
            if i - start >= target, i + 2 < n, bytes[i] == 45, bytes[i + 1] == 45, bytes[i + 2] == 45,
                i + 3 == n || bytes[i + 3] == 32 || bytes[i + 3] == 9 || bytes[i + 3] == 10 || bytes[i + 3] == 13
            {
                parts.append((start..<i, startLine))
                start = i
                startLine = line
            }
            // to the next line
            while i < n, bytes[i] != 10 { i += 1 }
            i += 1
            line += 1
        }
        parts.append((start..<n, startLine))
        return parts
    }

    /// UTF-16 (a byte order mark FE FF or FF FE), a CR not followed by LF, or NEL, LS, PS in UTF-8.
    static func hasUnusualEncoding(_ b: [UInt8]) -> Bool {
        if b.count >= 2, (b[0] == 0xFE && b[1] == 0xFF) || (b[0] == 0xFF && b[1] == 0xFE) { return true }
        for i in b.indices where b[i] == 0x0D || b[i] == 0xC2 || b[i] == 0xE2 {
            let next = i + 1 < b.count ? b[i + 1] : 0
            switch b[i] {
            case 0x0D where next != 0x0A: return true
            case 0xC2 where next == 0x85: return true
            case 0xE2 where next == 0x80 && i + 2 < b.count && (b[i + 2] == 0xA8 || b[i + 2] == 0xA9): return true
            default: continue
            }
        }
        return false
    }
}
