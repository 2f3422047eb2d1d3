// swift-tools-version: 6.1
// The fuzz targets, built with libFuzzer and AddressSanitizer by scripts/fuzz (never by the main package's build or
// scripts/test, which replay the committed corpora in Fuzz/Corpus through FuzzCorpusTests instead):
//   scripts/fuzz 5            # build, then run every target for 5 minutes
import PackageDescription

let targets = ["yaml", "saved-plan", "plan-json", "pve-response", "controller-request"]

let package = Package(
    name: "SetpointFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "Setpoint", path: "..")],
    targets: [.target(name: "CLibFuzzer", path: "CLibFuzzer")] + targets.map { name in
        .executableTarget(
            name: "fuzz-\(name)",
            dependencies: ["CLibFuzzer", .product(name: "SetpointFuzzing", package: "Setpoint")],
            path: "Targets/\(name)"
        )
    }
)
