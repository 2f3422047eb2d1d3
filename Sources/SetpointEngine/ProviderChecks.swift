public import SetpointCore

/// The providers' manifest checks (`ManifestChecking`), each over the resources of its kinds.
public enum ProviderChecks {
    public static func run(
        _ resources: [Resource],
        providers: [any Provider],
        context: ProviderContext
    ) async -> [Diagnostic] {
        var out: [Diagnostic] = []
        for provider in providers {
            guard let checker = provider as? any ManifestChecking else { continue }
            let mine = resources.filter { provider.kinds.contains($0.id.kind) }
            if !mine.isEmpty { out += await checker.check(mine, in: context) }
        }
        return out.sorted {
            ($0.location?.file ?? "", $0.location?.line ?? 0, $0.location?.column ?? 0)
                < ($1.location?.file ?? "", $1.location?.line ?? 0, $1.location?.column ?? 0)
        }
    }
}
