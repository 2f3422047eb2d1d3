/// Text written into YAML that must read back as exactly the same string.
public enum YAMLQuoting {
    /// A double-quoted scalar with JSON's escapes (so it is also a JSON string literal): quotes, backslashes and
    /// control characters escaped, everything else as it is.
    ///
    /// ```swift
    /// YAMLQuoting.doubleQuoted("rate(x[5m]) > 0.5\n")   // "\"rate(x[5m]) > 0.5\\n\""
    /// ```
    public static func doubleQuoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 {
                    out +=
                        "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                        + String(scalar.value, radix: 16)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
