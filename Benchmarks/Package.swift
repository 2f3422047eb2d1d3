// swift-tools-version: 6.1
// Benchmarks live in their own package so that the main package's build and `scripts/test` never compile
// package-benchmark. Run from this folder:
//   swift package --scratch-path ../.build-benchmarks benchmark
import PackageDescription

let package = Package(
    name: "SetpointBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Setpoint", path: ".."),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // Only the malloc interposer: the default "RuntimeInterposer" trait needs a package that is not available here.
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // package-benchmark convention: an executable target in Benchmarks/<Name>/ using the BenchmarkPlugin.
        .executableTarget(
            name: "ManifestLoad",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "SetpointCore", package: "Setpoint"),
                .product(name: "SetpointManifest", package: "Setpoint"),
                .product(name: "SetpointEngine", package: "Setpoint"),
                .product(name: "SetpointTesting", package: "Setpoint"),
            ],
            path: "ManifestLoad",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // A plain executable that loads a generated set once and prints wall time and peak RSS: a cross-check
        // of the benchmark's figures with `/usr/bin/time -v`, perf or valgrind (not a benchmark target).
        .executableTarget(
            name: "LoadProbe",
            dependencies: [
                .product(name: "SetpointCore", package: "Setpoint"),
                .product(name: "SetpointManifest", package: "Setpoint"),
                .product(name: "SetpointTesting", package: "Setpoint"),
            ],
            path: "Tools/LoadProbe"
        ),
        // Plan against pve-sim: 2,000 guests behind 2 ms of latency (targets: ≤ N+3 requests, ≤ 2 s).
        .executableTarget(
            name: "ProxmoxPlanProbe",
            dependencies: [
                .product(name: "SetpointCore", package: "Setpoint"),
                .product(name: "SetpointManifest", package: "Setpoint"),
                .product(name: "SetpointEngine", package: "Setpoint"),
                .product(name: "SetpointTesting", package: "Setpoint"),
                .product(name: "SetpointProxmox", package: "Setpoint"),
                .product(name: "PVESim", package: "Setpoint"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tools/ProxmoxPlanProbe"
        ),
    ]
)
