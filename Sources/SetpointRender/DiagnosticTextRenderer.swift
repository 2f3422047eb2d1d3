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

    public init(style: TerminalStyle = .plain, sourceLine: @escaping @Sendable (String, Int) -> String? = { _, _ in nil }) {
        self.style = style
        self.sourceLine = sourceLine
    }

    public func render(_ diagnostics: [Diagnostic]) -> String {
        diagnostics.map(render).joined()
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
        out += label + ": " + style.bold(d.summary + (d.resource.map { " in \($0)" } ?? "")) + "\n"
        var gutter = "  "
        if let location = d.location, let text = sourceLine(location.file, location.line) {
            let number = String(location.line)
            gutter = String(repeating: " ", count: number.count + 2)
            out += style.dim(" \(number) |") + " \(text)\n"
            let chars = Array(text)
            let start = max(0, min(location.column - 1, chars.count))
            let width = max(1, tokenWidth(chars, from: start))
            let pad = String(chars[..<start].map { $0 == "\t" ? "\t" : " " })
            out += style.dim("\(gutter)|") + " " + pad + style.red("^" + String(repeating: "~", count: width - 1)) + "\n"
        }
        if let hint = d.hint { out += style.dim("\(gutter)=") + " hint: \(hint)\n" }
        return out
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
        let errors = diagnostics.count(.error), warnings = diagnostics.count(.warning)
        let what = "\(plural(resources, "resource")) in \(plural(files, "file"))"
            + (skipped > 0 ? " (\(plural(skipped, "other document")) skipped)" : "")
        if errors == 0 {
            let w = warnings > 0 ? " with \(plural(warnings, "warning"))" : ""
            return style.green("valid:") + " \(what)\(w)\n"
        }
        return style.red("invalid:") + " \(plural(errors, "error")), \(plural(warnings, "warning")) — \(what)\n"
    }
}

func plural(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }
