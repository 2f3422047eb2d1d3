import SetpointCore

/// Checks across documents: duplicate `Kind/name`, references to undeclared resources, dependency cycles.
///
/// Every declared document takes part, valid or not, so a run reports all of its problems together; only
/// valid, non-duplicate resources outside cycles make it into the result.
enum SetChecks {
    static func run(_ declarations: [DocumentDecoder.Declaration]) -> (resources: [Resource], diagnostics: [Diagnostic])
    {
        var diagnostics: [Diagnostic] = []
        var indexByID: [ResourceID: Int] = [:]
        indexByID.reserveCapacity(declarations.count)
        var unique: [DocumentDecoder.Declaration] = []
        unique.reserveCapacity(declarations.count)
        for d in declarations {
            if let first = indexByID[d.id] {
                diagnostics.append(
                    Diagnostic(
                        .error,
                        .duplicateResource,
                        "duplicate \(d.id): already declared at \(unique[first].nameLocation)",
                        hint: "names are unique per kind; rename or remove one of them",
                        at: d.nameLocation,
                        resource: d.id
                    )
                )
            } else {
                indexByID[d.id] = unique.count
                unique.append(d)
            }
        }
        // Edges by index; names by kind only when a reference is missing (for the hint).
        var namesByKind: [ResourceKind: [String]]?
        var edges = [[Int]](repeating: [], count: unique.count)
        for (i, d) in unique.enumerated() {
            for ref in d.references {
                if let j = indexByID[ref.target] {
                    edges[i].append(j)
                    continue
                }
                if namesByKind == nil {
                    var names: [ResourceKind: [String]] = [:]
                    for d in unique { names[d.id.kind, default: []].append(d.id.name) }
                    namesByKind = names
                }
                let known = (namesByKind?[ref.target.kind] ?? []).sorted()
                var hint =
                    known.isEmpty
                    ? "no \(ref.target.kind) is declared; declare one or fix the name"
                    : "declared: " + known.prefix(8).joined(separator: ", ") + (known.count > 8 ? ", …" : "")
                if let close = nearest(to: ref.target.name, in: known, within: 2) {
                    hint = "did you mean '\(close)'? (\(hint))"
                }
                diagnostics.append(
                    Diagnostic(
                        .error,
                        .missingReference,
                        "\(ref.path) names \(ref.target), which no manifest declares",
                        hint: hint,
                        at: ref.location,
                        resource: d.id
                    )
                )
            }
        }
        var inCycle: Set<ResourceID> = []
        if hasCycle(edges) {
            // Rare: build the graph for its canonical cycle paths.
            let graph = DependencyGraph(
                nodes: unique.map(\.id),
                edges: unique.flatMap { d in d.references.map { (from: d.id, to: $0.target) } }
            )
            for cycle in graph.cycles() {
                inCycle.formUnion(cycle)
                let from = unique[indexByID[cycle[0]]!]
                let edge = from.references.first { $0.target == cycle[1] }
                diagnostics.append(
                    Diagnostic(
                        .error,
                        .dependencyCycle,
                        "dependency cycle: " + cycle.map(\.description).joined(separator: " → "),
                        hint: "break the cycle: remove one of these references or dependsOn entries",
                        at: edge?.location ?? from.nameLocation,
                        resource: from.id
                    )
                )
            }
        }
        diagnostics.append(contentsOf: uniqueKeys(unique.compactMap(\.resource)))
        diagnostics.append(contentsOf: archiveOwnership(unique.compactMap(\.resource)))
        let resources = unique.compactMap { d in inCycle.contains(d.id) ? nil : d.resource }
        return (resources, diagnostics)
    }

    /// Values two resources may not share (`UniqueKey`), reported at the later resource's field.
    static func uniqueKeys(_ resources: [Resource]) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        var owners: [String: [[Value]: Resource]] = [:]
        for r in resources {
            guard let definition = KindRegistry.definition(for: r.id.kind) else { continue }
            for key in definition.uniqueKeys {
                guard let value = key.value(in: r.spec) else { continue }
                if let first = owners[key.scope]?[value] {
                    let path = FieldPath([.key("spec")] + key.paths.last!.components)
                    let shown = zip(key.paths, value).map { "\($0.0) \($0.1)" }.joined(separator: ", ")
                    diagnostics.append(
                        Diagnostic(
                            .error,
                            .duplicateResource,
                            "\(shown) is already used by \(first.id) (\(first.location(of: path)))",
                            hint: "\(key.reason); change one of them",
                            at: r.location(of: path),
                            resource: r.id
                        )
                    )
                } else {
                    owners[key.scope, default: [:]][value] = r
                }
            }
        }
        return diagnostics
    }

    /// Whether the graph has a cycle (self-loops included): iterative depth-first search with three colours.
    static func hasCycle(_ edges: [[Int]]) -> Bool {
        var state = [UInt8](repeating: 0, count: edges.count)  // 0 unvisited, 1 on the path, 2 done
        var stack: [(node: Int, next: Int)] = []
        for root in edges.indices where state[root] == 0 {
            state[root] = 1
            stack.append((root, 0))
            while let (node, next) = stack.last {
                if next < edges[node].count {
                    stack[stack.count - 1].next += 1
                    let dep = edges[node][next]
                    if state[dep] == 1 { return true }
                    if state[dep] == 0 {
                        state[dep] = 1
                        stack.append((dep, 0))
                    }
                } else {
                    state[node] = 2
                    stack.removeLast()
                }
            }
        }
        return false
    }
}
