/// Resources and the edges between them: `a → b` when `a` references or depends on `b` (so `b` comes first).
///
/// Pure and deterministic: nodes and edges are kept in sorted order.
public struct DependencyGraph: Sendable {
    public private(set) var nodes: [ResourceID]
    /// For each node, the nodes it depends on, sorted.
    public private(set) var dependencies: [ResourceID: [ResourceID]]

    public init(nodes: [ResourceID], edges: [(from: ResourceID, to: ResourceID)]) {
        self.nodes = Array(Set(nodes)).sorted()
        var deps: [ResourceID: Set<ResourceID>] = [:]
        for node in self.nodes { deps[node] = [] }
        for edge in edges where deps[edge.from] != nil && deps[edge.to] != nil {
            deps[edge.from]!.insert(edge.to)
        }
        dependencies = deps.mapValues { $0.sorted() }
    }

    /// Every cycle, one per strongly connected component, each as a path that starts and ends at the same
    /// node (`[a, b, c, a]`), starting at its smallest node. Self-references count.
    public func cycles() -> [[ResourceID]] {
        var index = 0
        var indices: [ResourceID: Int] = [:]
        var lowlink: [ResourceID: Int] = [:]
        var onStack: Set<ResourceID> = []
        var stack: [ResourceID] = []
        var components: [[ResourceID]] = []

        // Iterative Tarjan, so deep chains cannot overflow the stack.
        for root in nodes where indices[root] == nil {
            var work: [(node: ResourceID, next: Int)] = [(root, 0)]
            indices[root] = index
            lowlink[root] = index
            index += 1
            stack.append(root)
            onStack.insert(root)
            while !work.isEmpty {
                let (node, next) = work[work.count - 1]
                let deps = dependencies[node] ?? []
                if next < deps.count {
                    work[work.count - 1].next += 1
                    let dep = deps[next]
                    if indices[dep] == nil {
                        indices[dep] = index
                        lowlink[dep] = index
                        index += 1
                        stack.append(dep)
                        onStack.insert(dep)
                        work.append((dep, 0))
                    } else if onStack.contains(dep) {
                        lowlink[node] = min(lowlink[node]!, indices[dep]!)
                    }
                } else {
                    work.removeLast()
                    if let parent = work.last?.node { lowlink[parent] = min(lowlink[parent]!, lowlink[node]!) }
                    if lowlink[node] == indices[node] {
                        var component: [ResourceID] = []
                        while let top = stack.popLast() {
                            onStack.remove(top)
                            component.append(top)
                            if top == node { break }
                        }
                        let selfLoop = component.count == 1 && (dependencies[node] ?? []).contains(node)
                        if component.count > 1 || selfLoop { components.append(component) }
                    }
                }
            }
        }
        return components.map(cyclePath).sorted { $0.lexicographicallyPrecedes($1) }
    }

    /// A concrete cycle through a strongly connected component, from its smallest node.
    private func cyclePath(in component: [ResourceID]) -> [ResourceID] {
        let members = Set(component)
        let start = component.min()!
        // Breadth-first search for the shortest way back to start, inside the component.
        var previous: [ResourceID: ResourceID] = [:]
        var queue = [start]
        var head = 0
        while head < queue.count {
            let node = queue[head]
            head += 1
            for dep in dependencies[node] ?? [] where members.contains(dep) {
                if dep == start {
                    var path = [start]
                    var cursor = node
                    while cursor != start {
                        path.append(cursor)
                        cursor = previous[cursor]!
                    }
                    return [start] + path.dropFirst().reversed() + [start]
                }
                if previous[dep] == nil {
                    previous[dep] = node
                    queue.append(dep)
                }
            }
        }
        return [start, start]
    }

    /// Nodes in an order where every node comes after what it depends on, smallest ready node first (so the order
    /// is deterministic); nil when there is a cycle. O((n + e) log n).
    public func topologicalOrder() -> [ResourceID]? {
        var remaining: [ResourceID: Int] = [:]
        var dependents: [ResourceID: [ResourceID]] = [:]
        for (node, deps) in dependencies {
            remaining[node] = deps.count
            for dep in deps { dependents[dep, default: []].append(node) }
        }
        var ready = MinHeap<ResourceID>()
        for node in nodes where remaining[node] == 0 { ready.push(node) }
        var order: [ResourceID] = []
        order.reserveCapacity(nodes.count)
        while let node = ready.pop() {
            order.append(node)
            for dependent in dependents[node] ?? [] {
                remaining[dependent]! -= 1
                if remaining[dependent] == 0 { ready.push(dependent) }
            }
        }
        return order.count == nodes.count ? order : nil
    }
}

/// A binary min-heap (ready queues: the smallest first).
public struct MinHeap<Element: Comparable>: Sendable where Element: Sendable {
    private var items: [Element] = []

    public init() {}

    public var isEmpty: Bool { items.isEmpty }

    public mutating func push(_ element: Element) {
        items.append(element)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard items[i] < items[parent] else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    public mutating func pop() -> Element? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1
            let r = l + 1
            var smallest = i
            if l < items.count, items[l] < items[smallest] { smallest = l }
            if r < items.count, items[r] < items[smallest] { smallest = r }
            if smallest == i { break }
            items.swapAt(i, smallest)
            i = smallest
        }
        return top
    }
}
