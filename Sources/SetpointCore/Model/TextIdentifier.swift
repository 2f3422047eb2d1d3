/// An identifier written as text in files, logs and JSON (`VirtualMachine/web`, `VirtualMachine/web:update`) and
/// read back in one place, `init?(parsing:)`. Encodes as that text; decoding refuses text that is not one.
public protocol TextIdentifier: Codable, CustomStringConvertible {
    init?(parsing text: String)
    /// What the text must look like, for errors (`Kind/name`).
    static var textForm: String { get }
}

extension TextIdentifier {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let id = Self(parsing: text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "not \(Self.textForm): \(text)")
            )
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
