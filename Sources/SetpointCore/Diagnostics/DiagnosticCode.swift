/// A stable diagnostic code such as `SP1003`. New codes are added, old ones never change meaning.
///
/// The catalogue, with a title for each code, is `DiagnosticCode.catalogue`; `docs/diagnostics.md` documents it.
public struct DiagnosticCode: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    // 0xxx — notes about the run
    /// A document whose apiVersion is not `setpoint/…` was skipped.
    public static let skippedDocument = DiagnosticCode(rawValue: "SP0001")
    /// A folder held no `*.yaml`/`*.yml` files.
    public static let noManifests = DiagnosticCode(rawValue: "SP0002")

    // 1xxx — manifest problems
    public static let yamlSyntax = DiagnosticCode(rawValue: "SP1001")
    public static let unknownKind = DiagnosticCode(rawValue: "SP1002")
    public static let unknownField = DiagnosticCode(rawValue: "SP1003")
    public static let wrongType = DiagnosticCode(rawValue: "SP1004")
    public static let missingField = DiagnosticCode(rawValue: "SP1005")
    public static let invalidName = DiagnosticCode(rawValue: "SP1006")
    public static let invalidQuantity = DiagnosticCode(rawValue: "SP1007")
    public static let invalidValue = DiagnosticCode(rawValue: "SP1008")
    public static let duplicateResource = DiagnosticCode(rawValue: "SP1009")
    public static let missingReference = DiagnosticCode(rawValue: "SP1010")
    public static let dependencyCycle = DiagnosticCode(rawValue: "SP1011")
    public static let aliasRefused = DiagnosticCode(rawValue: "SP1012")
    public static let fileTooLarge = DiagnosticCode(rawValue: "SP1013")
    public static let nestingTooDeep = DiagnosticCode(rawValue: "SP1014")
    public static let duplicateKey = DiagnosticCode(rawValue: "SP1015")
    public static let unsupportedVersion = DiagnosticCode(rawValue: "SP1016")
    public static let inlineSecret = DiagnosticCode(rawValue: "SP1017")
    public static let invalidDuration = DiagnosticCode(rawValue: "SP1018")
    public static let conflictingFields = DiagnosticCode(rawValue: "SP1019")
    public static let unreadableFile = DiagnosticCode(rawValue: "SP1020")
    /// A tool Setpoint checks manifests with (promtool, amtool) is not installed.
    public static let toolMissing = DiagnosticCode(rawValue: "SP1021")
    /// promtool or amtool rejected what Setpoint would write.
    public static let toolRejected = DiagnosticCode(rawValue: "SP1022")
    /// A credential would cross the network unencrypted: an http:// endpoint that gets the API token, SMTP
    /// authentication without TLS. Allowed only by the resource's own opt-in field.
    public static let plaintextCredential = DiagnosticCode(rawValue: "SP1023")

    // 2xxx — planning problems
    public static let observeFailed = DiagnosticCode(rawValue: "SP2001")
    public static let referencedMissing = DiagnosticCode(rawValue: "SP2002")
    public static let changeRefused = DiagnosticCode(rawValue: "SP2003")
    public static let pruneRefused = DiagnosticCode(rawValue: "SP2004")
    /// A provider's warning about what it observed (more synchronous standbys wanted than stream, pools that can open
    /// more server connections than the server allows).
    public static let providerWarning = DiagnosticCode(rawValue: "SP2005")

    /// Every code with a short title, in code order.
    public static let catalogue: [(code: DiagnosticCode, title: String)] = [
        (.skippedDocument, "document skipped: its apiVersion is not setpoint/…"),
        (.noManifests, "no *.yaml or *.yml files in a folder"),
        (.yamlSyntax, "YAML syntax error"),
        (.unknownKind, "unknown kind under setpoint/v1"),
        (.unknownField, "unknown field"),
        (.wrongType, "wrong type (YAML 1.1 booleans and octal numbers where a string is expected included)"),
        (.missingField, "missing required field"),
        (.invalidName, "invalid resource name (DNS label)"),
        (.invalidQuantity, "invalid quantity, or a Proxmox size that is not a whole MiB"),
        (.invalidValue, "value out of range, not one of the allowed values, or malformed"),
        (.duplicateResource, "two documents declare the same Kind/name"),
        (.missingReference, "reference to a resource no manifest declares"),
        (.dependencyCycle, "dependency cycle"),
        (.aliasRefused, "YAML anchors and aliases are refused"),
        (.fileTooLarge, "file over the size limit"),
        (.nestingTooDeep, "nesting over the depth limit"),
        (.duplicateKey, "duplicate mapping key"),
        (.unsupportedVersion, "unsupported setpoint/ apiVersion"),
        (.inlineSecret, "a secret written inline instead of by reference"),
        (.invalidDuration, "invalid duration"),
        (.conflictingFields, "fields that exclude each other, or none of a required set"),
        (.unreadableFile, "a path that cannot be read"),
        (.toolMissing, "a checking tool (promtool, amtool) is not installed"),
        (.toolRejected, "promtool or amtool rejected what Setpoint would write"),
        (.plaintextCredential, "a credential would cross the network unencrypted (http://, SMTP without TLS)"),
        (.observeFailed, "a resource could not be observed"),
        (.referencedMissing, "a referenced resource does not exist"),
        (.changeRefused, "a change the provider cannot make (a disk shrink)"),
        (.pruneRefused, "prune refused: no resources in the manifests"),
        (.providerWarning, "a provider's warning about what it observed"),
    ]
}
