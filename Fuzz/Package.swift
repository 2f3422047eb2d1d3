// swift-tools-version: 6.1
// The fuzzer, built with libFuzzer and AddressSanitizer by scripts/fuzz (never by the main package's build or
// scripts/test, which replay the committed corpora in Fuzz/Corpus through FuzzCorpusTests instead):
//   scripts/fuzz 5            # build, then run every target for 5 minutes
//   SETPOINT_FUZZ_TARGET=yaml .build-fuzz/release/setpoint-fuzz Fuzz/Corpus/yaml -max_total_time=60
import PackageDescription

let package = Package(
    name: "SetpointFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "Setpoint", path: "..")],
    targets: [
        .target(name: "CLibFuzzer", path: "CLibFuzzer"),
        .executableTarget(
            name: "setpoint-fuzz",
            dependencies: ["CLibFuzzer", .product(name: "SetpointFuzzing", package: "Setpoint")],
            path: "Fuzzer"
        ),
    ]
)
