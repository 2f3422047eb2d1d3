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
            let first = errors.first.map { "\($0.location.map { "\($0.file):\($0.line)" } ?? "-"): \($0.summary)" } ?? "none"
            fatalError("generated set did not load cleanly: \(set.resources.count)/\(resources) resources, \(errors.count) errors; first: \(first)")
        }
        for resource in set.resources {
            guard let definition = KindRegistry.definition(for: resource.id.kind) else {
                fatalError("no kind definition for \(resource.id)")
            }
            blackHole(try definition.decode(resource.spec))
        }
        blackHole(set)
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
