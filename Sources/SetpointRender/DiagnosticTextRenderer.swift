public import SetpointCore

/// Renders diagnostics as compilers do: `file:line:col: error[SP1003]: summary in Kind/name`, the source
/// line with a caret under the offending token, and the hint.
///
/// ```text
/// db.yaml:12:5: error[SP1003]: unknown field 'replica_count' in PostgresCluster/main-db
///    12 |     replica_count: 2
///       |     ^~~~~~~~~~~~~
///       = hint: did you mean 'replicas'?
/// ```
public struct DiagnosticTextRenderer: Sendable {
    public var style: TerminalStyle
    /// Returns a line (1-based) of a file, for the snippet; nil leaves the snippet out.
    public var sourceLine: @Sendable (_ file: String, _ line: Int) -> String?

    public init(
        style: TerminalStyle = .plain,
        sourceLine: @escaping @Sendable (String, Int) -> String? = { _, _ in nil }
    ) {
        self.style = style
        self.sourceLine = sourceLine
    }

    /// At most this many diagnostics are printed per file; a line after them counts the rest (`--output json` lists
    /// every one). A hostile file with thousands of problems on one long line prints a bounded screenful.
    public var perFileLimit = 50
    /// Source snippets and summaries are cut to about this many characters around what they point at.
    public static let snippetWidth = 120
    static let summaryLimit = 300

    public func render(_ diagnostics: [Diagnostic]) -> String {
        var out = ""
        var shown: [String: Int] = [:]
        var omitted: [(file: String, count: Int)] = []
        for d in diagnostics {
            let file = d.location?.file ?? ""
            let count = shown[file, default: 0]
            guard count < perFileLimit else {
                if let i = omitted.firstIndex(where: { $0.file == file }) {
                    omitted[i].count += 1
                } else {
                    omitted.append((file, 1))
                }
                continue
            }
            shown[file] = count + 1
            out += render(d)
        }
        for (file, count) in omitted {
            let where_ = file.isEmpty ? "without a file" : "in \(file)"
            out +=
                style.dim(
                    "… \(plural(count, "more diagnostic")) \(where_) not shown (the first \(perFileLimit) are; --output json lists all)"
                ) + "\n"
        }
        return out
    }

    public func render(_ d: Diagnostic) -> String {
        var out = ""
        if let location = d.location { out += style.bold("\(location):") + " " }
        let label: String =
            switch d.severity {
            case .error: style.red("error[\(d.code)]")
            case .warning: style.yellow("warning[\(d.code)]")
            case .note: style.cyan("note[\(d.code)]")
            }
        out +=
            label + ": "
            + style.bold(Self.cut(d.summary, to: Self.summaryLimit) + (d.resource.map { " in \($0)" } ?? "")) + "\n"
        var gutter = "  "
        if let location = d.location, let text = sourceLine(location.file, location.line) {
            let number = String(location.line)
            gutter = String(repeating: " ", count: number.count + 2)
            let (chars, start) = Self.window(of: Self.redactingUserInfo(text), around: location.column - 1)
            out += style.dim(" \(number) |") + " \(String(chars))\n"
            let width = max(1, tokenWidth(chars, from: start))
            let pad = String(chars[..<start].map { $0 == "\t" ? "\t" : " " })
            out +=
                style.dim("\(gutter)|") + " " + pad + style.red("^" + String(repeating: "~", count: width - 1)) + "\n"
        }
        if let hint = d.hint { out += style.dim("\(gutter)=") + " hint: \(Self.cut(hint, to: Self.summaryLimit))\n" }
        return out
    }

    /// The part of a long line around `column` (0-based), at most `snippetWidth` characters with `…` where it was
    /// cut, and the column's position in it. Only that part is ever turned into characters.
    static func window(of text: String, around column: Int) -> (chars: [Character], column: Int) {
        let lead = snippetWidth / 3
        let first = max(0, column - lead)
        var chars: [Character] = []
        chars.reserveCapacity(snippetWidth + 2)
        var index = 0
        var cutAfter = false
        for c in text {
            if index >= first + snippetWidth {
                cutAfter = true
                break
            }
            if index >= first { chars.append(c) }
            index += 1
        }
        var start = max(0, min(column, index) - first)
        if first > 0 {
            chars.insert("…", at: 0)
            start += 1
        }
        if cutAfter { chars.append("…") }
        return (chars, min(start, chars.count))
    }

    /// Text cut to `limit` characters, saying how much was left out.
    static func cut(_ text: String, to limit: Int) -> String {
        guard text.utf8.count > limit else { return text }
        let kept = text.prefix(limit)
        guard kept.count == limit else { return text }
        let rest = text.utf8.count - kept.utf8.count
        return kept + "… (\(rest) more bytes)"
    }

    /// A snippet never shows the credentials of a URL: `https://user:secret@host` prints as `https://***********@host`
    /// (as many stars as characters, so the caret stays in place). The manifest may be refused for holding them, and
    /// its line must not print them again.
    static func redactingUserInfo(_ line: String) -> String {
        guard line.contains("://"), line.contains("@") else { return line }
        var out = ""
        var rest = Substring(line)
        while let scheme = rest.firstRange(of: "://") {
            out += rest[..<scheme.upperBound]
            rest = rest[scheme.upperBound...]
            let authorityEnd = rest.firstIndex { "/?# \t\"'".contains($0) } ?? rest.endIndex
            if let at = rest[..<authorityEnd].lastIndex(of: "@") {
                out += String(repeating: "*", count: rest[..<at].count)
                rest = rest[at...]
            }
        }
        return out + rest
    }

    /// Length of the token at `start`: a quoted string to its closing quote, else up to a space or `: `.
    func tokenWidth(_ chars: [Character], from start: Int) -> Int {
        guard start < chars.count else { return 1 }
        let first = chars[start]
        if first == "\"" || first == "'" {
            var i = start + 1
            while i < chars.count, chars[i] != first { i += 1 }
            return min(i, chars.count - 1) - start + 1
        }
        var i = start
        while i < chars.count {
            let c = chars[i]
            if c == " " || c == "\t" || c == "#" { break }
            if c == ":" && (i + 1 == chars.count || chars[i + 1] == " ") { break }
            if (c == "," || c == "}" || c == "]") && i > start { break }
            i += 1
        }
        return max(1, i - start)
    }

    /// The closing line of `setpoint validate`.
    public func summary(resources: Int, files: Int, skipped: Int, diagnostics: [Diagnostic]) -> String {
        let errors = diagnostics.count(.error)
        let warnings = diagnostics.count(.warning)
        let what =
            "\(plural(resources, "resource")) in \(plural(files, "file"))"
            + (skipped > 0 ? " (\(plural(skipped, "other document")) skipped)" : "")
        if errors == 0 {
            let w = warnings > 0 ? " with \(plural(warnings, "warning"))" : ""
            return style.green("valid:") + " \(what)\(w)\n"
        }
        return style.red("invalid:") + " \(plural(errors, "error")), \(plural(warnings, "warning")) — \(what)\n"
    }
}

func plural(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }
