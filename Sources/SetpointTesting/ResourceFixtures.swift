import SetpointCore

extension Resource {
    /// A resource built in code for tests: no manifest behind it (its source is an empty mapping).
    public static func fixture(
        _ kind: ResourceKind,
        _ name: String,
        spec: [String: Value],
        references: [ResourceID] = [],
        annotations: [String: String] = [:],
        ignore: [String] = []
    ) -> Resource {
        let id = ResourceID(kind: kind, name: name)
        let location = SourceLocation(file: "fixture.yaml", line: 1, column: 1)
        return Resource(
            id: id,
            apiVersion: KindRegistry.apiVersion,
            metadata: ResourceMetadata(name: name, annotations: annotations, ignore: ignore),
            spec: .map(spec),
            references: references.map { Reference(target: $0, path: ["spec"], location: location) },
            location: location,
            source: SourceNode(.mapping([]), line: 1, column: 1)
        )
    }
}

extension Value {
    /// `.map` from pairs, for terse test data.
    public static func m(_ pairs: KeyValuePairs<String, Value>) -> Value {
        .map(Dictionary(pairs.map { ($0.key, $0.value) }, uniquingKeysWith: { _, b in b }))
    }
}
