import SetpointCore
import Testing

@Suite(.timeLimit(.minutes(2))) struct DependencyGraphTests {
    static func id(_ name: String) -> ResourceID { ResourceID(kind: .virtualMachine, name: name) }

    struct Case: CustomTestStringConvertible, Sendable {
        let reason: String
        let nodes: [String]
        let edges: [(String, String)]
        let cycles: [[String]]
        var testDescription: String { reason }
    }

    static let cases: [Case] = [
        Case(reason: "a chain has no cycle", nodes: ["a", "b", "c"], edges: [("a", "b"), ("b", "c")], cycles: []),
        Case(
            reason: "a diamond has no cycle",
            nodes: ["a", "b", "c", "d"],
            edges: [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")],
            cycles: []
        ),
        Case(reason: "a self-reference is a cycle", nodes: ["a"], edges: [("a", "a")], cycles: [["a", "a"]]),
        Case(
            reason: "two resources depending on each other",
            nodes: ["a", "b"],
            edges: [("a", "b"), ("b", "a")],
            cycles: [["a", "b", "a"]]
        ),
        Case(
            reason: "a three-cycle is reported from its smallest node, in edge order",
            nodes: ["c", "a", "b"],
            edges: [("a", "c"), ("c", "b"), ("b", "a")],
            cycles: [["a", "c", "b", "a"]]
        ),
        Case(
            reason: "two separate cycles are both reported",
            nodes: ["a", "b", "x", "y", "z"],
            edges: [("a", "b"), ("b", "a"), ("x", "y"), ("y", "x"), ("z", "a")],
            cycles: [["a", "b", "a"], ["x", "y", "x"]]
        ),
        Case(reason: "edges to unknown nodes are ignored", nodes: ["a"], edges: [("a", "missing")], cycles: []),
    ]

    @Test(arguments: cases)
    func cycles(_ c: Case) {
        let graph = DependencyGraph(nodes: c.nodes.map(Self.id), edges: c.edges.map { (Self.id($0.0), Self.id($0.1)) })
        #expect(graph.cycles().map { $0.map(\.name) } == c.cycles, "\(c.reason)")
        let order = graph.topologicalOrder()
        if c.cycles.isEmpty {
            let order = try! #require(order)
            #expect(Set(order.map(\.name)) == Set(c.nodes), "\(c.reason)")
            for (from, to) in c.edges where c.nodes.contains(to) {
                #expect(
                    order.firstIndex(of: Self.id(to))! < order.firstIndex(of: Self.id(from))!,
                    "\(c.reason): \(to) before \(from)"
                )
            }
        } else {
            #expect(order == nil, "\(c.reason)")
        }
    }

    @Test func longChainDoesNotOverflowTheStack() {
        let names = (0..<20_000).map { "n\($0)" }
        let edges =
            zip(names, names.dropFirst()).map { (Self.id($0), Self.id($1)) } + [
                (Self.id(names.last!), Self.id(names[0]))
            ]
        let cycles = DependencyGraph(nodes: names.map(Self.id), edges: edges).cycles()
        #expect(cycles.count == 1)
        #expect(cycles.first?.count == names.count + 1)
    }
}
