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
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            diagnostics.append(Diagnostic(.error, .yamlSyntax, "could not initialise the YAML parser", at: SourceLocation(file: file, line: 1, column: 1)))
            return []
        }
        defer { yaml_parser_delete(&parser) }
        return bytes.withUnsafeBufferPointer { buffer in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var builder = TreeBuilder(file: file, maxDepth: limits.maxDepth)
            var event = yaml_event_t()
            while true {
                guard yaml_parser_parse(&parser, &event) == 1 else {
                    diagnostics.append(syntaxError(parser, file: file))
                    builder.abandonDocument()
                    break
                }
                let done = event.type == YAML_STREAM_END_EVENT
                builder.consume(&event)
                yaml_event_delete(&event)
                if done { break }
            }
            diagnostics.append(contentsOf: builder.diagnostics)
            return builder.documents
        }
    }

    private func syntaxError(_ parser: yaml_parser_t, file: String) -> Diagnostic {
        let problem = parser.problem.map { String(cString: $0) } ?? "invalid YAML"
        var mark = parser.problem_mark
        var summary = problem
        if let context = parser.context.map({ String(cString: $0) }) {
            let c = parser.context_mark
            if parser.error == YAML_SCANNER_ERROR {
                // A scanner error ("while scanning a quoted scalar") starts where the token starts; the problem
                // mark is where the scanner gave up, often lines later.
                mark = c
                summary = "\(context): \(problem) (gave up at line \(parser.problem_mark.line + 1), column \(parser.problem_mark.column + 1))"
            } else {
                summary = "\(problem) \(context) (line \(c.line + 1), column \(c.column + 1))"
            }
        }
        return Diagnostic(
            .error, .yamlSyntax, "YAML syntax error: \(summary)",
            hint: "check the indentation and quoting on this line and the one above it",
            at: SourceLocation(file: file, line: Int(mark.line) + 1, column: Int(mark.column) + 1))
    }
}

/// Turns events into nodes with an explicit stack (no recursion, so depth is bounded by `maxDepth` alone).
private struct TreeBuilder {
    enum Frame {
        case mapping([SourceNode.Pair], pendingKey: SourceNode?, line: Int32, column: Int32)
        case sequence([SourceNode], line: Int32, column: Int32)
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

    init(file: String, maxDepth: Int) {
        self.file = file
        self.maxDepth = maxDepth
    }

    mutating func consume(_ event: inout yaml_event_t) {
        let line = Int32(event.start_mark.line) + 1
        let column = Int32(event.start_mark.column) + 1
        switch event.type {
        case YAML_DOCUMENT_START_EVENT:
            inDocument = true
            refused = false
            root = nil
            stack.removeAll()
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
        case YAML_ALIAS_EVENT:
            let name = event.data.alias.anchor.map { String(cString: $0) } ?? ""
            refuseAnchor("alias '*\(name)'", line: line, column: column)
            add(SourceNode(.scalar(.init(text: "", style: .plain)), line: line, column: column))
        case YAML_SCALAR_EVENT:
            let s = event.data.scalar
            if let anchor = s.anchor { refuseAnchor("anchor '&\(String(cString: anchor))'", line: line, column: column) }
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
            if skippedDepth > 0 || stack.count >= maxDepth {
                if skippedDepth == 0 {
                    diagnostics.append(Diagnostic(
                        .error, .nestingTooDeep, "nesting deeper than \(maxDepth) levels",
                        hint: "manifests never need this depth; the document is refused",
                        at: SourceLocation(file: file, line: Int(line), column: Int(column))))
                    refused = true
                    nestingRefused = true
                }
                skippedDepth += 1
                return
            }
            stack.append(isMapping ? .mapping([], pendingKey: nil, line: line, column: column) : .sequence([], line: line, column: column))
        case YAML_MAPPING_END_EVENT, YAML_SEQUENCE_END_EVENT:
            if skippedDepth > 0 {
                skippedDepth -= 1
                if skippedDepth == 0 { add(SourceNode(.scalar(.init(text: "", style: .plain)), line: line, column: column)) }
                return
            }
            guard let frame = stack.popLast() else { return }
            switch frame {
            case .mapping(let pairs, _, let l, let c):
                checkDuplicateKeys(pairs)
                add(SourceNode(.mapping(pairs), line: l, column: c))
            case .sequence(let items, let l, let c):
                add(SourceNode(.sequence(items), line: l, column: c))
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
        anchorDiagnostic = (Diagnostic(
            .error, .aliasRefused, "YAML \(what) refused: manifests may not use anchors or aliases",
            hint: "write the values out in full; aliases can expand exponentially (\"billion laughs\") and are never expanded",
            at: SourceLocation(file: file, line: Int(line), column: Int(column))))
    }

    private mutating func add(_ node: SourceNode) {
        guard !stack.isEmpty else {
            root = node
            return
        }
        switch stack[stack.count - 1] {
        case .mapping(var pairs, let pendingKey, let l, let c):
            stack[stack.count - 1] = .sequence([], line: 0, column: 0)  // release the array before mutating it
            if let key = pendingKey {
                pairs.append(SourceNode.Pair(key: key, value: node))
                stack[stack.count - 1] = .mapping(pairs, pendingKey: nil, line: l, column: c)
            } else {
                stack[stack.count - 1] = .mapping(pairs, pendingKey: node, line: l, column: c)
            }
        case .sequence(var items, let l, let c):
            stack[stack.count - 1] = .sequence([], line: 0, column: 0)
            items.append(node)
            stack[stack.count - 1] = .sequence(items, line: l, column: c)
        }
    }

    private mutating func checkDuplicateKeys(_ pairs: [SourceNode.Pair]) {
        guard pairs.count > 1 else { return }
        var seen: [String: SourceNode] = [:]
        seen.reserveCapacity(pairs.count)
        for pair in pairs {
            guard let key = pair.key.scalar?.text else { continue }
            if let first = seen[key] {
                diagnostics.append(Diagnostic(
                    .error, .duplicateKey, "duplicate key '\(key)' (first at line \(first.line))",
                    hint: "a key may appear once per mapping; remove or merge one of them",
                    at: SourceLocation(file: file, line: Int(pair.key.line), column: Int(pair.key.column))))
            } else {
                seen[key] = pair.key
            }
        }
    }
}
