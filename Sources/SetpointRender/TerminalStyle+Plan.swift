extension TerminalStyle {
    /// Magenta, for replacements (`-/+`, `[replace]`): between an update's yellow and a delete's red.
    public func magenta(_ s: String) -> String {
        isEnabled ? "\u{1B}[35m\(s)\u{1B}[0m" : s
    }
}
