import ArgumentParser
import SetpointCore

extension SecretReference {
    /// A key given on the command line by reference, `env:NAME` or `file:/path`, never the key itself.
    init(option: String, _ text: String) throws {
        if text.hasPrefix("env:"), text.count > 4 {
            self = .env(String(text.dropFirst(4)))
        } else if text.hasPrefix("file:"), text.count > 5 {
            self = .file(String(text.dropFirst(5)))
        } else {
            throw ValidationError("\(option) takes a reference, env:NAME or file:/path, never the key itself")
        }
    }
}

/// `--sign-key env:NAME` or `--sign-key file:/path`: the key that signs and verifies saved plans (HMAC-SHA256).
struct SigningKeyOption: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Key for signing or verifying a saved plan: env:NAME or file:/path (never the key itself).",
            valueName: "REF"
        )
    )
    var signKey: String?

    func validate() throws { _ = try reference() }

    func reference() throws -> SecretReference? {
        try signKey.map { try SecretReference(option: "--sign-key", $0) }
    }

    /// The key's bytes, resolved through the runtime's secrets.
    func key(_ secrets: any SecretResolver) throws -> [UInt8]? {
        guard let ref = try reference() else { return nil }
        return Array(try secrets.resolve(ref).utf8)
    }
}
