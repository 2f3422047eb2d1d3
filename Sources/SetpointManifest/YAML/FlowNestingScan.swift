/// Finds flow collections (`[` and `{`) nested deeper than a limit, before libyaml sees the bytes.
///
/// libyaml keeps a stack of possible simple keys per flow level and walks it for every token, so deep flow nesting
/// costs quadratic time inside the parser: 200 KB of `[` takes tens of seconds, long before the tree builder's depth
/// limit can refuse the document. This scan is linear and reads just enough YAML to count only real flow indicators,
/// following libyaml's scanner: quoted scalars (which may span lines), comments, block scalars (`|`, `>`) and their
/// more-indented content, plain scalars (in block context a plain scalar may hold `[`, `{`, quotes and `#` not after
/// a blank, and goes on over more-indented lines), tags, anchors and aliases, every YAML line break (LF, CR, CRLF,
/// NEL, LS, PS), and document markers (`---`, `...`), which end any open construct.
///
/// Where it cannot tell, it counts: a document it refuses would have been refused by the tree builder's depth limit
/// (or by libyaml), so valid manifests load exactly as before.
struct FlowNestingScan {
    /// Where the first flow collection past the limit opens.
    struct Excess: Equatable, Sendable {
        /// Byte offset in the scanned buffer.
        var offset: Int
        /// 1-based line, counted from the buffer's first line.
        var line: Int
        /// 1-based column, in characters.
        var column: Int
        /// Byte offset of the start of the document holding it: its `---` line, or the buffer's start.
        var documentStart: Int
    }

    /// The first `[` or `{` that opens flow level `maxDepth + 1`, or nil when flow nesting stays within the limit.
    static func firstExcess(_ bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) -> Excess? {
        var scan = FlowNestingScan(b: bytes, maxDepth: maxDepth)
        return scan.run()
    }

    private enum Quote { case none, single, double }

    private let b: UnsafeBufferPointer<UInt8>
    private let n: Int
    private let maxDepth: Int
    private var i = 0
    private var line = 1
    private var lineStart = 0
    private var documentStart = 0
    private var depth = 0
    private var quote = Quote.none
    /// Block context: the column past which a node's continuation lines must be indented (a key's column, a `-`'s
    /// column; one less than the line's first token otherwise; -1 at the top).
    private var nodeColumn = -1
    /// The column of the last token that started on this line (a key, should a `: ` follow it).
    private var lastTokenColumn = -1
    /// In a block scalar: its parent's column, and its content's indentation once the first content line set it.
    private var blockScalar: (parent: Int, content: Int?)?
    /// A block plain scalar still open at the end of a line: its parent's column.
    private var plainParent: Int?

    private init(b: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.b = b
        self.n = b.count
        self.maxDepth = maxDepth
    }

    private mutating func run() -> Excess? {
        while i < n {
            if let excess = scanLine() { return excess }
            skipBreak()
        }
        return nil
    }

    // MARK: - characters

    /// The length of the line break at `j` (CRLF 2, NEL 2, LS and PS 3), or 0.
    private func breakLength(_ j: Int) -> Int {
        guard j < n else { return 0 }
        switch b[j] {
        case 10: return 1
        case 13: return j + 1 < n && b[j + 1] == 10 ? 2 : 1
        case 0xC2: return j + 1 < n && b[j + 1] == 0x85 ? 2 : 0
        case 0xE2: return j + 2 < n && b[j + 1] == 0x80 && (b[j + 2] == 0xA8 || b[j + 2] == 0xA9) ? 3 : 0
        default: return 0
        }
    }

    private func isBreak(_ j: Int) -> Bool { breakLength(j) > 0 }
    private func isBlank(_ j: Int) -> Bool { j < n && (b[j] == 32 || b[j] == 9) }
    /// End of input, a blank or a line break: what must follow an indicator such as `- ` or `: `.
    private func endsToken(_ j: Int) -> Bool { j >= n || isBlank(j) || isBreak(j) }
    private func isFlowIndicator(_ j: Int) -> Bool { j < n && (b[j] == 44 || b[j] == 91 || b[j] == 93 || b[j] == 123 || b[j] == 125) }

    private mutating func skipToBreak() {
        while i < n, !isBreak(i) { i += 1 }
    }

    private mutating func skipBreak() {
        guard i < n else { return }
        i += max(1, breakLength(i))
        line += 1
        lineStart = i
    }

    private func column(_ offset: Int) -> Int {
        var c = 1
        for j in lineStart..<offset where b[j] & 0xC0 != 0x80 { c += 1 }
        return c
    }

    private func excess(at offset: Int) -> Excess {
        Excess(offset: offset, line: line, column: column(offset), documentStart: documentStart)
    }

    // MARK: - lines

    /// Scans from the start of a line to its break.
    private mutating func scanLine() -> Excess? {
        var indent = 0
        while i + indent < n, b[i + indent] == 32 { indent += 1 }
        let first = i + indent
        var j = first
        while isBlank(j) { j += 1 }
        let blankLine = j >= n || isBreak(j)

        if indent == 0, i + 2 < n, endsToken(i + 3),
            (b[i] == 45 && b[i + 1] == 45 && b[i + 2] == 45) || (b[i] == 46 && b[i + 1] == 46 && b[i + 2] == 46)
        {
            // A document marker: whatever was open ends here, and the next document starts.
            documentStart = i
            depth = 0
            quote = .none
            blockScalar = nil
            plainParent = nil
            nodeColumn = -1
            i += 3
            return scanTokens(tokenStart: true)
        }
        if quote != .none { return scanTokens(tokenStart: false) }  // a quoted scalar goes on over this line
        if depth > 0 {
            i = first
            return scanTokens(tokenStart: true)
        }
        if let scalar = blockScalar {
            if blankLine {
                i = j
                return nil
            }
            if let content = scalar.content, indent >= content {
                skipToBreak()
                return nil
            }
            if scalar.content == nil, indent > scalar.parent {
                blockScalar = (scalar.parent, indent)
                skipToBreak()
                return nil
            }
            blockScalar = nil
        }
        if blankLine {
            i = j
            return nil
        }
        i = first
        if let parent = plainParent {
            plainParent = nil
            if indent > parent, b[first] != 35 {
                // The plain scalar goes on over this line: plain text to a comment or a `: `, then tokens again.
                let parentColumn = parent
                scanBlockPlain()
                if i < n, !isBreak(i) {
                    if b[i] == 35 { skipToBreak() } else { i += 1 }  // '#', or the ':' libyaml reports as an error
                } else {
                    plainParent = parentColumn
                }
                return i < n && !isBreak(i) ? scanTokens(tokenStart: true) : nil
            }
        }
        nodeColumn = indent - 1
        return scanTokens(tokenStart: true)
    }

    /// Scans tokens to the end of the line.
    private mutating func scanTokens(tokenStart start: Bool) -> Excess? {
        var tokenStart = start
        lastTokenColumn = -1
        while i < n, !isBreak(i) {
            let c = b[i]
            if quote != .none {
                scanQuoted()
                tokenStart = false
                continue
            }
            if isBlank(i) {
                tokenStart = true
                i += 1
                continue
            }
            if c == 35, tokenStart {  // '#': a comment
                skipToBreak()
                break
            }
            if depth > 0 {
                if let e = flowToken(&tokenStart) { return e }
                continue
            }
            if let e = blockToken(&tokenStart) { return e }
        }
        return nil
    }

    /// One token in flow context.
    private mutating func flowToken(_ tokenStart: inout Bool) -> Excess? {
        switch b[i] {
        case 91, 123:  // [ {
            depth += 1
            if depth > maxDepth { return excess(at: i) }
            i += 1
            tokenStart = true
        case 93, 125:  // ] }
            depth -= 1
            i += 1
            tokenStart = false
        case 44:  // ,
            i += 1
            tokenStart = true
        case 58 where endsToken(i + 1) || isFlowIndicator(i + 1) || !tokenStart:  // ':' as a value indicator
            i += 1
            tokenStart = true
        case 39 where tokenStart, 34 where tokenStart:
            quote = b[i] == 39 ? .single : .double
            i += 1
        default:
            // Plain text, a tag, an anchor or an alias: to a blank, a line break, a flow indicator or a ': '.
            i += 1
            while i < n, !isBlank(i), !isBreak(i), !isFlowIndicator(i), !(b[i] == 58 && (endsToken(i + 1) || isFlowIndicator(i + 1))) { i += 1 }
            tokenStart = false
        }
        return nil
    }

    /// One token in block context.
    private mutating func blockToken(_ tokenStart: inout Bool) -> Excess? {
        let c = b[i]
        let col = i - lineStart
        guard tokenStart else {
            // After a quoted scalar or a flow collection: a ': ' makes it a key; anything else libyaml reports.
            if c == 58, endsToken(i + 1) { nodeColumn = lastTokenColumn }
            i += 1
            tokenStart = c == 58
            return nil
        }
        switch c {
        case 91, 123:  // [ {
            depth = 1
            lastTokenColumn = col
            if depth > maxDepth { return excess(at: i) }
            i += 1
        case 39, 34:  // a quoted scalar
            quote = c == 39 ? .single : .double
            lastTokenColumn = col
            i += 1
            tokenStart = false
        case 124, 62:  // | > : a block scalar; its content is the lines indented past its parent
            blockScalar = (nodeColumn, nil)
            skipToBreak()
        case 45 where endsToken(i + 1), 63 where endsToken(i + 1):  // "- " and "? ": a node starts after them
            nodeColumn = col
            i += 1
        case 58 where endsToken(i + 1):  // ": " with an empty key
            i += 1
        case 33, 38, 42:  // ! & * : a tag, an anchor or an alias, one word
            while i < n, !isBlank(i), !isBreak(i) { i += 1 }
            tokenStart = false
        default:
            lastTokenColumn = col
            scanBlockPlain()
            if i < n, b[i] == 58 {
                nodeColumn = col  // a key: what follows belongs to it
                i += 1
            } else {
                plainParent = nodeColumn  // open at the end of the line or before a comment: it may go on
                if i < n, !isBreak(i) { skipToBreak() }
            }
        }
        return nil
    }

    /// A plain scalar in block context: up to a line break, a ` #` or a `: `.
    private mutating func scanBlockPlain() {
        while i < n, !isBreak(i) {
            if b[i] == 58, endsToken(i + 1) { return }
            if isBlank(i) {
                var j = i
                while isBlank(j) { j += 1 }
                if j < n, b[j] == 35 {
                    i = j
                    return
                }
                i = j
                continue
            }
            i += 1
        }
    }

    /// Inside a quoted scalar: to its closing quote or the end of the line.
    private mutating func scanQuoted() {
        while i < n, !isBreak(i) {
            let c = b[i]
            if quote == .single, c == 39 {
                if i + 1 < n, b[i + 1] == 39 {
                    i += 2
                    continue
                }
                quote = .none
                i += 1
                return
            }
            if quote == .double {
                if c == 92 {  // a backslash escapes the next character (an escaped line break is left to the line loop)
                    i += isBreak(i + 1) ? 1 : 2
                    continue
                }
                if c == 34 {
                    quote = .none
                    i += 1
                    return
                }
            }
            i += 1
        }
    }
}
