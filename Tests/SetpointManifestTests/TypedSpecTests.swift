import Foundation
import SetpointCore
import SetpointManifest
import SetpointTesting
import Testing

/// Typed specs must carry every field the schema accepts: a field the decoder validates but the typed
/// spec drops would silently never reach a provider.
@Suite(.timeLimit(.minutes(2))) struct TypedSpecTests {
    static let resources: [Resource] = {
        let paths = [
            RepoPaths.path("examples"), RepoPaths.path("manifests"),
            RepoPaths.path("Tests/SetpointManifestTests/Corpus/valid"),
        ]
        return ManifestLoader().load(paths: paths).resources
    }()

    @Test func everyKindsTypedSpecHasExactlyTheSchemaFields() throws {
        for definition in KindRegistry.v1 {
            guard let resource = Self.resources.first(where: { $0.id.kind == definition.kind }) else {
                Issue.record("no example of \(definition.kind)")
                continue
            }
            let typed = try definition.decode(resource.spec)
            let labels = Set(Mirror(reflecting: typed).children.compactMap(\.label))
            #expect(
                labels == Set(definition.spec.fields.map(\.name)),
                "\(definition.kind): typed spec \(labels.sorted()) vs schema"
            )
        }
    }

    @Test func everyDeclaredValueSurvivesTypedDecoding() throws {
        #expect(!Self.resources.isEmpty)
        for resource in Self.resources {
            let typed = try KindRegistry.definition(for: resource.id.kind)!.decode(resource.spec)
            checkCovers(resource.spec, Mirror(reflecting: typed), path: "\(resource.id) spec")
        }
    }

    /// Every key of the value has a property of the same name, recursively through structs, optionals, lists and maps.
    func checkCovers(_ value: Value, _ mirror: Mirror, path: String) {
        var mirror = mirror
        while mirror.displayStyle == .optional, let child = mirror.children.first {
            mirror = Mirror(reflecting: child.value)
        }
        switch (value, mirror.displayStyle) {
        case (.map(let m), .struct?):
            let children = Dictionary(
                mirror.children.compactMap { c in c.label.map { ($0, c.value) } },
                uniquingKeysWith: { a, _ in a }
            )
            for (key, v) in m {
                guard let child = children[key] else {
                    Issue.record("\(path).\(key) is dropped by the typed spec")
                    continue
                }
                checkCovers(v, Mirror(reflecting: child), path: "\(path).\(key)")
            }
        case (.map(let m), .dictionary?):
            for child in mirror.children {
                let pair = Mirror(reflecting: child.value).children.map(\.value)
                guard pair.count == 2, let key = pair[0] as? String, let v = m[key] else { continue }
                checkCovers(v, Mirror(reflecting: pair[1]), path: "\(path).\(key)")
            }
        case (.list(let items), .collection?):
            for (i, (item, child)) in zip(items, mirror.children).enumerated() {
                checkCovers(item, Mirror(reflecting: child.value), path: "\(path)[\(i)]")
            }
        default:
            break
        }
    }
}
