public import SetpointCore
import SetpointYAML

/// Decodes one YAML document into a `Resource`: envelope (apiVersion, kind, metadata), then the spec
/// against its kind's schema, then the kind's own checks that a schema cannot express.
public struct DocumentDecoder {
    public let file: String
    public private(set) var diagnostics: [Diagnostic] = []
    public private(set) var skipped = 0

    static let envelopeFields: Set<String> = ["apiVersion", "kind", "metadata", "spec"]

    public init(file: String) {
        self.file = file
    }

    /// What one document declares, even when it is invalid: its id and references still take part in the
    /// set-wide checks, so that every problem of a run is reported together.
    public struct Declaration: Sendable {
        public var id: ResourceID
        public var nameLocation: SourceLocation
        public var references: [Reference]
        /// The resource, when the document is valid.
        public var resource: Resource?
    }

    public mutating func decode(_ document: YAMLDocument) -> Declaration? {
        guard let root = document.root else { return nil }
        guard case .mapping(let pairs) = root.content else {
            if case .scalar(let s) = root.content, s.style == .plain, ScalarResolver.resolve(s) == .null { return nil }
            // A list or a scalar is someone else's YAML (an Ansible playbook …): skipped like any foreign document.
            skipped += 1
            diagnostics.append(
                Diagnostic(
                    .note,
                    .skippedDocument,
                    "skipped a document that is not a mapping: not a setpoint/… manifest",
                    at: location(root)
                )
            )
            return nil
        }
        // apiVersion
        guard let apiPair = root.pair("apiVersion") else {
            // Without an apiVersion a document is someone else's (a CI workflow, a compose file) — unless its
            // kind is one of ours, when the author most likely forgot the line.
            if let kind = root["kind"]?.scalar?.text, KindRegistry.definition(for: ResourceKind(kind)) != nil {
                report(
                    .missingField,
                    "missing required field 'apiVersion'",
                    hint: "add 'apiVersion: \(KindRegistry.apiVersion)'",
                    at: root
                )
            } else {
                skipped += 1
                diagnostics.append(
                    Diagnostic(
                        .note,
                        .skippedDocument,
                        "skipped a document without apiVersion: not a setpoint/… manifest",
                        at: location(root)
                    )
                )
            }
            return nil
        }
        guard let apiScalar = apiPair.value.scalar, case .string(let apiVersion) = ScalarResolver.resolve(apiScalar)
        else {
            report(.wrongType, "apiVersion: expected a string such as 'setpoint/v1'", at: apiPair.value)
            return nil
        }
        guard apiVersion.hasPrefix("setpoint/") else {
            skipped += 1
            diagnostics.append(
                Diagnostic(
                    .note,
                    .skippedDocument,
                    "skipped a document with apiVersion '\(apiVersion)': not a setpoint/… manifest",
                    at: location(apiPair.value)
                )
            )
            return nil
        }
        guard apiVersion == KindRegistry.apiVersion else {
            report(
                .unsupportedVersion,
                "unsupported apiVersion '\(apiVersion)'",
                hint: "this Setpoint reads \(KindRegistry.apiVersion)",
                at: apiPair.value
            )
            return nil
        }
        // kind
        guard let kindPair = root.pair("kind") else {
            report(.missingField, "missing required field 'kind'", hint: "add e.g. 'kind: VirtualMachine'", at: root)
            return nil
        }
        guard let kindScalar = kindPair.value.scalar, case .string(let kindName) = ScalarResolver.resolve(kindScalar)
        else {
            report(.wrongType, "kind: expected a kind name such as 'VirtualMachine'", at: kindPair.value)
            return nil
        }
        guard let definition = KindRegistry.definition(for: ResourceKind(kindName)) else {
            let names = KindRegistry.v1.map(\.kind.rawValue)
            var hint = "kinds of \(KindRegistry.apiVersion): " + names.joined(separator: ", ")
            if let close = nearest(to: kindName, in: names, within: 3, ignoringCase: true) {
                hint = "did you mean '\(close)'? (\(hint))"
            }
            report(
                .unknownKind,
                "unknown kind '\(kindName)' in \(KindRegistry.apiVersion)",
                hint: hint,
                at: kindPair.value
            )
            return nil
        }
        let kind = definition.kind
        // The name first, so that every later diagnostic can name the resource.
        var resourceID: ResourceID?
        if let name = root["metadata"]?["name"]?.scalar, case .string(let text) = ScalarResolver.resolve(name) {
            resourceID = ResourceID(kind: kind, name: text)
        }
        var validator = SchemaValidator(file: file, resource: resourceID)
        for pair in pairs {
            guard let key = pair.key.scalar?.text, !Self.envelopeFields.contains(key) else { continue }
            validator.report(
                .unknownField,
                "unknown field '\(key)'",
                hint: key == "status"
                    ? "status is never written in manifests; remove it"
                    : "top-level fields are apiVersion, kind, metadata and spec",
                at: pair.key
            )
        }
        let metadataNode = root.pair("metadata")
        var metadataValue: Value?
        if let metadataNode {
            metadataValue = validator.validate(
                metadataNode.value,
                as: .object(MetadataSchema.schema),
                path: ["metadata"],
                keyNode: metadataNode.key
            )
        } else {
            validator.report(
                .missingField,
                "missing required field 'metadata'",
                hint: "add 'metadata:' with a 'name:'",
                at: root
            )
        }
        var spec: Value?
        if let specPair = root.pair("spec") {
            spec = validator.validate(
                specPair.value,
                as: .object(definition.spec),
                path: ["spec"],
                keyNode: specPair.key
            )
            if let spec { KindChecks.run(kind, spec: spec, root: root, validator: &validator) }
        } else {
            validator.report(
                .missingField,
                "missing required field 'spec'",
                hint: "add 'spec:' with the \(kind) fields",
                at: root
            )
        }
        let metadata = metadataValue.flatMap { checkMetadata($0, root: root, validator: &validator) }
        let ok = !validator.diagnostics.hasErrors
        diagnostics.append(contentsOf: validator.diagnostics)
        guard let resourceID, let nameNode = root["metadata"]?["name"] else { return nil }
        var references = validator.references
        for (i, dep) in (metadata?.dependsOn ?? []).enumerated() {
            let path = FieldPath([.key("metadata"), .key("dependsOn"), .index(i)])
            references.append(Reference(target: dep, path: path, location: location(root.node(at: path))))
        }
        var declaration = Declaration(id: resourceID, nameLocation: location(nameNode), references: references)
        if ok, let metadata, let spec {
            declaration.resource = Resource(
                id: resourceID,
                apiVersion: apiVersion,
                metadata: metadata,
                spec: spec,
                references: references,
                location: SourceLocation(file: file, line: Int(root.line), column: Int(root.column)),
                source: root
            )
        }
        return declaration
    }

    private func checkMetadata(_ value: Value, root: SourceNode, validator: inout SchemaValidator) -> ResourceMetadata?
    {
        guard case .string(let name)? = value["name"] else { return nil }
        var labels: [String: String] = [:]
        if case .map(let m)? = value["labels"] { for (k, v) in m { labels[k] = v.stringValue } }
        var annotations: [String: String] = [:]
        if case .map(let m)? = value["annotations"] {
            for (k, v) in m { annotations[k] = v.stringValue }
            for known in MetadataSchema.knownAnnotations {
                if let given = annotations[known.key], !known.values.contains(given) {
                    let node = root.node(at: ["metadata", "annotations", known.key])
                    validator.report(
                        .invalidValue,
                        "annotation \(known.key): '\(given)' is not one of "
                            + known.values.map { "'\($0)'" }.joined(separator: ", "),
                        hint: known.summary,
                        at: node
                    )
                }
            }
        }
        var dependsOn: [ResourceID] = []
        if case .list(let l)? = value["dependsOn"] {
            dependsOn = l.compactMap { $0.stringValue.flatMap(ResourceID.init(parsing:)) }
        }
        var ignore: [String] = []
        if case .list(let l)? = value["ignore"] { ignore = l.compactMap(\.stringValue) }
        return ResourceMetadata(
            name: name,
            labels: labels,
            annotations: annotations,
            dependsOn: dependsOn,
            ignore: ignore
        )
    }

    private mutating func report(_ code: DiagnosticCode, _ summary: String, hint: String? = nil, at node: SourceNode) {
        diagnostics.append(Diagnostic(.error, code, summary, hint: hint, at: location(node)))
    }

    private func location(_ node: SourceNode) -> SourceLocation {
        SourceLocation(file: file, line: Int(node.line), column: Int(node.column))
    }
}
