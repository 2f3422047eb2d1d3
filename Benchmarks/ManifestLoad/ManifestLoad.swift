// Load benchmark: read + parse + validate + set-check a generated manifest set with `ManifestLoader`, then
// decode every resource's typed spec through its `KindDefinition`, as `setpoint plan` would.
//
// The set is generated once per benchmark (outside the measured region) into a temporary folder, so each
// iteration includes reading the files. Run from Benchmarks/:
//   swift package --scratch-path ../.build-benchmarks benchmark
import Benchmark
import Foundation
import SetpointCore
import SetpointManifest
import SetpointTesting

/// A generated set on disk: `resources` resources split over `files` files.
struct Fixture: Sendable {
    let resources: Int
    let files: Int

    var directory: String {
        (NSTemporaryDirectory() as NSString).appendingPathComponent("setpoint-bench-\(getpid())-\(resources)x\(files)")
    }

    @Sendable func setUp() throws {
        try? FileManager.default.removeItem(atPath: directory)
        try ManifestGenerator.write(resources: resources, files: files, into: directory)
    }

    @Sendable func tearDown() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// One measured unit of work: load the folder, insist on a clean set, decode every typed spec.
    func loadAndDecode() throws {
        let set = ManifestLoader().load(paths: [directory])
        let errors = set.diagnostics.filter { $0.severity == .error }
        guard errors.isEmpty, set.resources.count == resources else {
            let first =
                errors.first.map { "\($0.location.map { "\($0.file):\($0.line)" } ?? "-"): \($0.summary)" } ?? "none"
            fatalError(
                "generated set did not load cleanly: \(set.resources.count)/\(resources) resources, \(errors.count) errors; first: \(first)"
            )
        }
        for resource in set.resources {
            guard let definition = KindRegistry.definition(for: resource.id.kind) else {
                fatalError("no kind definition for \(resource.id)")
            }
            blackHole(try definition.decode(resource.spec))
        }
        blackHole(set)
    }

    /// Load, then graph + three-way diff + plan against an in-memory observation: every resource exists, one in ten
    /// has drifted (a changed field), and state remembers every one as applied. What `setpoint plan` does, minus
    /// the providers' network calls.
    func loadAndPlan() throws -> Plan {
        let set = ManifestLoader().load(paths: [directory])
        guard set.isValid, set.resources.count == resources else { fatalError("generated set did not load cleanly") }
        var observed: [ResourceID: Observation] = [:]
        var applied: [ResourceID: AppliedResource] = [:]
        observed.reserveCapacity(set.resources.count)
        applied.reserveCapacity(set.resources.count)
        for (i, r) in set.resources.enumerated() {
            var spec = r.spec
            // Drift: a string field the manifest sets, changed behind Setpoint's back.
            if i % 10 == 0, case .map(var m) = spec,
                let key = m.keys.sorted().first(where: { if case .string = m[$0]! { true } else { false } })
            {
                m[key] = .string("changed-by-hand")
                spec = .map(m)
            }
            observed[r.id] = .present(ObservedResource(spec: spec, providerID: String(i)))
            applied[r.id] = AppliedResource(
                id: r.id,
                providerID: String(i),
                spec: Differ(policy: FieldPolicy()).appliedForm(of: r.spec),
                dependsOn: r.references.map(\.target)
            )
        }
        return Planner().plan(
            PlanRequest(desired: set.resources, applied: applied, observed: observed, policies: { _ in FieldPolicy() })
        )
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .peakMemoryResident, .peakMemoryResidentDelta, .mallocCountTotal],
        warmupIterations: 1,
        maxDuration: .seconds(15),
        maxIterations: 10
    )

    let cases: [(name: String, fixture: Fixture, iterations: Int)] = [
        ("load+decode+validate 1000 resources", Fixture(resources: 1_000, files: 1), 30),
        ("load+decode+validate 10000 resources", Fixture(resources: 10_000, files: 1), 10),
        ("load+decode+validate 10000 resources in 20 files", Fixture(resources: 10_000, files: 20), 10),
    ]
    let planFixture = Fixture(resources: 10_000, files: 20)
    Benchmark(
        "load+plan 10000 resources (graph, three-way diff, plan; 10% drifted)",
        configuration: .init(maxIterations: 10, setup: planFixture.setUp, teardown: planFixture.tearDown)
    ) { benchmark in
        for _ in benchmark.scaledIterations {
            let plan = try planFixture.loadAndPlan()
            guard plan.changes.count >= 900 else {
                fatalError("expected ~1000 drift updates, got \(plan.changes.count)")
            }
            blackHole(plan)
        }
    }
    for c in cases {
        let fixture = c.fixture
        Benchmark(
            c.name,
            configuration: .init(maxIterations: c.iterations, setup: fixture.setUp, teardown: fixture.tearDown)
        ) { benchmark in
            for _ in benchmark.scaledIterations {
                try fixture.loadAndDecode()
            }
        }
    }
}
