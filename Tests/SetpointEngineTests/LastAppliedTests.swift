import SetpointCore
import SetpointEngine
import SetpointTesting
import Synchronization
import Testing

/// Providers see the spec last applied (from state), for desired resources and orphans alike.
@Suite(.timeLimit(.minutes(2))) struct LastAppliedTests {
    /// A provider that remembers what it was handed.
    final class Recorder: Provider, @unchecked Sendable {
        let kinds: [ResourceKind] = [.resourcePool]
        let seen = Mutex<[ResourceID: Value?]>([:])

        func observe(
            _ resources: [ResolvedResource],
            in context: ProviderContext
        ) async throws -> [ResourceID: Observation] {
            var result: [ResourceID: Observation] = [:]
            for r in resources {
                seen.withLock { $0[r.id] = r.lastApplied }
                result[r.id] = .present(ObservedResource(spec: .m(["comment": .string("old")]), providerID: r.id.name))
            }
            return result
        }

        func fieldPolicy(for kind: ResourceKind) -> FieldPolicy { FieldPolicy() }

        func apply(
            _ action: Action,
            resource: ResolvedResource?,
            in context: ProviderContext
        ) async throws -> Observation {
            .absent
        }
    }

    @Test func observeReceivesTheLastAppliedSpecOfDeclaredAndOrphanedResources() async throws {
        let declared = Resource.fixture(.resourcePool, "kept", spec: ["comment": .string("new")])
        let orphan = ResourceID(kind: .resourcePool, name: "gone")
        let store = InMemoryStateStore(owned: [
            AppliedResource(id: declared.id, providerID: "kept", spec: .m(["comment": .string("old")])),
            AppliedResource(id: orphan, providerID: "gone", spec: .m(["comment": .string("was here")])),
        ])
        let recorder = Recorder()
        let pipeline = PlanPipeline(
            registry: try ProviderRegistry([recorder]),
            context: ProviderContext(secrets: EnvironmentSecretResolver()),
            store: store
        )
        _ = try await pipeline.plan([declared])
        let seen = recorder.seen.withLock { $0 }
        #expect(seen[declared.id] == .some(.m(["comment": .string("old")])))
        #expect(seen[orphan] == .some(.m(["comment": .string("was here")])))
    }
}
