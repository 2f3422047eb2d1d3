/// ANSI styling, on only when writing to a terminal and `NO_COLOR` is not set.
public struct TerminalStyle: Sendable {
    public var isEnabled: Bool

    public init(isEnabled: Bool) {
        self.isEnabled = isEnabled
    }

    /// Colour for a terminal unless `NO_COLOR` is set (to anything, per no-color.org) or `TERM=dumb`.
    public static func detect(isTerminal: Bool, environment: [String: String]) -> TerminalStyle {
        let noColor = environment["NO_COLOR"] != nil
        let dumb = environment["TERM"] == "dumb"
        return TerminalStyle(isEnabled: isTerminal && !noColor && !dumb)
    }

    public static let plain = TerminalStyle(isEnabled: false)

    public func bold(_ s: String) -> String { wrap(s, "1") }
    public func red(_ s: String) -> String { wrap(s, "1;31") }
    public func yellow(_ s: String) -> String { wrap(s, "1;33") }
    public func green(_ s: String) -> String { wrap(s, "32") }
    public func cyan(_ s: String) -> String { wrap(s, "36") }
    public func dim(_ s: String) -> String { wrap(s, "2") }

    private func wrap(_ s: String, _ code: String) -> String {
        isEnabled ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s
    }
}
