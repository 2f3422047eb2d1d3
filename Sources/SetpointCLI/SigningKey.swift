import ArgumentParser
import SetpointCore

/// `--sign-key env:NAME` or `--sign-key file:/path`: the key that signs and verifies saved plans (HMAC-SHA256).
struct SigningKeyOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Key for signing or verifying a saved plan: env:NAME or file:/path (never the key itself).",
                                            valueName: "REF"))
    var signKey: String?

    func validate() throws { _ = try reference() }

    func reference() throws -> SecretReference? {
        guard let signKey else { return nil }
        if signKey.hasPrefix("env:"), signKey.count > 4 { return .env(String(signKey.dropFirst(4))) }
        if signKey.hasPrefix("file:"), signKey.count > 5 { return .file(String(signKey.dropFirst(5))) }
        throw ValidationError("--sign-key takes a reference, env:NAME or file:/path, never the key itself")
    }

    /// The key's bytes, resolved through the runtime's secrets.
    func key(_ secrets: any SecretResolver) throws -> [UInt8]? {
        guard let ref = try reference() else { return nil }
        return Array(try secrets.resolve(ref).utf8)
    }
}
