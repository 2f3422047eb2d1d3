// swift-tools-version: 6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "Setpoint",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "setpoint", targets: ["setpoint"]),
        .library(name: "SetpointCore", targets: ["SetpointCore"]),
        .library(name: "SetpointYAML", targets: ["SetpointYAML"]),
        .library(name: "SetpointManifest", targets: ["SetpointManifest"]),
        .library(name: "SetpointRender", targets: ["SetpointRender"]),
        .library(name: "SetpointCLI", targets: ["SetpointCLI"]),
        .library(name: "SetpointState", targets: ["SetpointState"]),
        .library(name: "SetpointEngine", targets: ["SetpointEngine"]),
        .library(name: "SetpointHTTP", targets: ["SetpointHTTP"]),
        .library(name: "SetpointProxmox", targets: ["SetpointProxmox"]),
        .library(name: "SetpointPG", targets: ["SetpointPG"]),
        .library(name: "SetpointPostgres", targets: ["SetpointPostgres"]),
        .library(name: "SetpointPrometheus", targets: ["SetpointPrometheus"]),
        .library(name: "SetpointBackup", targets: ["SetpointBackup"]),
        .library(name: "SetpointController", targets: ["SetpointController"]),
        .library(name: "SetpointExec", targets: ["SetpointExec"]),
        .library(name: "SetpointHosts", targets: ["SetpointHosts"]),
        .library(name: "SetpointRemote", targets: ["SetpointRemote"]),
        .library(name: "PVESim", targets: ["PVESim"]),
        .executable(name: "pve-sim", targets: ["pve-sim"]),
        .library(name: "SetpointTesting", targets: ["SetpointTesting"]),
        .library(name: "SetpointFuzzing", targets: ["SetpointFuzzing"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // libyaml from the system (libyaml-dev): read events straight into typed values with positions.
        .systemLibrary(
            name: "CYAML",
            pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"])]
        ),
        // libcurl from the system (libcurl4-openssl-dev): the HTTP client of the Proxmox and Prometheus providers.
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .target(name: "SetpointHTTP", dependencies: ["CCurl"], swiftSettings: swiftSettings),
        // zlib from the system (zlib1g-dev): gzip for the controller API's responses.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // libpq from the system (libpq-dev): PostgreSQL connections for the PostgreSQL and backup providers and the
        // PostgreSQL state store.
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .target(name: "SetpointPG", dependencies: ["CLibPQ"], swiftSettings: swiftSettings),
        // Running tools (pg_basebackup, pg_ctl, pgbackrest, promtool …) by argv, as a given OS user.
        .target(name: "SetpointExec", dependencies: ["CSetpointSys"], swiftSettings: swiftSettings),
        // The hosts provider: Host (referenced), reached over SSH with pinned keys.
        .target(
            name: "SetpointHosts",
            dependencies: ["SetpointCore", "SetpointExec", "SetpointRemote"],
            swiftSettings: swiftSettings
        ),
        // A declared Host's commands and files for the providers (not a provider): one SSH master per host per run.
        .target(name: "SetpointRemote", dependencies: ["SetpointCore", "SetpointExec"], swiftSettings: swiftSettings),
        // System calls Swift's Glibc module leaves out (closefrom for posix_spawn, pipe2): children get only their own descriptors.
        .target(name: "CSetpointSys"),
        // The Proxmox VE API simulator: a library (in-process use from tests) and the `pve-sim` executable.
        .target(
            name: "PVESim",
            dependencies: [
                // Spawning the guest hook with only its own descriptors (posix_spawn, waitpid on a thread).
                "SetpointExec",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "pve-sim",
            dependencies: ["PVESim", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: swiftSettings
        ),
        .target(name: "SetpointCore", swiftSettings: swiftSettings),
        .target(name: "SetpointProxmox", dependencies: ["SetpointCore", "SetpointHTTP"], swiftSettings: swiftSettings),
        .target(
            name: "SetpointPostgres",
            dependencies: ["SetpointCore", "SetpointPG", "SetpointExec", "SetpointRemote"],
            swiftSettings: swiftSettings
        ),
        // pgBackRest backups, WAL archiving, restores and drills of a PostgresCluster (reads the cluster's manifest, not its provider).
        .target(
            name: "SetpointBackup",
            dependencies: ["SetpointCore", "SetpointPG", "SetpointExec", "SetpointRemote"],
            swiftSettings: swiftSettings
        ),
        // Prometheus rule groups and Alertmanager routing (reads YAML back with the manifest reader).
        .target(
            name: "SetpointPrometheus",
            dependencies: ["SetpointCore", "SetpointHTTP", "SetpointExec", "SetpointRemote", "SetpointYAML"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SetpointManifest",
            dependencies: ["SetpointCore", "SetpointYAML"],
            swiftSettings: swiftSettings
        ),
        // YAML text into positioned `SourceNode` trees (libyaml events, YAML 1.1 scalars): what the manifest loader and
        // the monitoring provider (reading rule files and Alertmanager's configuration back) share.
        .target(name: "SetpointYAML", dependencies: ["SetpointCore", "CYAML"], swiftSettings: swiftSettings),
        .target(name: "SetpointRender", dependencies: ["SetpointCore"], swiftSettings: swiftSettings),
        .target(
            name: "SetpointCLI",
            dependencies: [
                "SetpointCore", "SetpointYAML", "SetpointManifest", "SetpointRender", "SetpointEngine", "SetpointState",
                "SetpointProxmox",
                "SetpointPostgres", "SetpointPrometheus", "SetpointBackup", "SetpointController", "SetpointHTTP",
                "SetpointHosts", "SetpointRemote",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "setpoint", dependencies: ["SetpointCLI"], swiftSettings: swiftSettings),
        // Test-only: SetpointCLI with the in-memory provider, for tests that need a separate process. Not a product.
        .executableTarget(
            name: "setpoint-testing",
            dependencies: ["SetpointCLI", "SetpointCore", "SetpointEngine", "SetpointTesting"],
            swiftSettings: swiftSettings
        ),
        // SQLite via GRDB (libsqlite3-dev on Linux).
        .target(
            name: "SetpointState",
            dependencies: [
                "SetpointCore", "SetpointPG", "SetpointExec", .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        // The long-running controller: reconcile passes, policy, pending plans, backup schedules and the HTTP API.
        .target(
            name: "SetpointController",
            dependencies: [
                "SetpointCore", "SetpointManifest", "SetpointEngine", "SetpointState", "SetpointRender", "SetpointExec",
                "CZlib",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SetpointEngine",
            dependencies: [
                "SetpointCore", "SetpointState", "SetpointRender", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SetpointTesting",
            dependencies: ["SetpointCore", "SetpointManifest", "SetpointState", "SetpointEngine", "SetpointExec"],
            swiftSettings: swiftSettings
        ),
        // The fuzz targets' entry points (Fuzz/ builds them with libFuzzer; FuzzCorpusTests replays their corpora).
        .target(
            name: "SetpointFuzzing",
            dependencies: [
                "SetpointCore", "SetpointYAML", "SetpointManifest", "SetpointRender", "SetpointEngine", "SetpointState",
                "SetpointProxmox",
                "SetpointController", "SetpointTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SetpointCoreTests",
            dependencies: ["SetpointCore", "SetpointTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SetpointManifestTests",
            dependencies: ["SetpointCore", "SetpointManifest", "SetpointYAML", "SetpointTesting"],
            exclude: ["Corpus"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SetpointYAMLTests",
            dependencies: ["SetpointCore", "SetpointYAML", "SetpointTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SetpointRenderTests",
            dependencies: ["SetpointCore", "SetpointRender", "SetpointManifest", "SetpointTesting"],
            exclude: ["__Snapshots__"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SetpointCLITests",
            dependencies: [
                "SetpointCLI", "SetpointCore", "SetpointManifest", "SetpointTesting", "SetpointEngine", "SetpointState",
                "setpoint",
                "setpoint-testing",
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SetpointStateTests",
            dependencies: [
                "SetpointState", "SetpointCore", "SetpointTesting", "SetpointPG", "SetpointEngine",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SetpointEngineTests",
            dependencies: ["SetpointEngine", "SetpointCore", "SetpointState", "SetpointTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SetpointHTTPTests",
            dependencies: ["SetpointHTTP", "SetpointTesting"],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SetpointProxmoxTests",
            dependencies: [
                "SetpointProxmox", "PVESim", "SetpointCLI", "SetpointCore", "SetpointEngine", "SetpointTesting",
                "SetpointHTTP", "pve-sim", "SetpointManifest",
                "SetpointPG", "SetpointController",
                "setpoint", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SetpointPGTests",
            dependencies: [
                "SetpointPG", "SetpointExec", "SetpointTesting", "SetpointPostgres", "SetpointBackup", "SetpointCLI",
                "SetpointCore",
                "SetpointEngine", "SetpointState", "SetpointHTTP",
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SetpointExecTests",
            dependencies: ["SetpointExec", "SetpointTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            // The lab (scripts/lab): Setpoint run in the ops namespace against hosts of their own, over SSH.
            name: "SetpointLabTests",
            dependencies: ["SetpointTesting", "setpoint", "PVESim"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SetpointHostsTests",
            dependencies: [
                "SetpointHosts", "SetpointCore", "SetpointExec", "SetpointManifest", "SetpointRemote",
                "SetpointTesting",
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SetpointPostgresTests",
            dependencies: ["SetpointPostgres", "SetpointCore", "SetpointTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SetpointBackupTests",
            dependencies: ["SetpointBackup", "SetpointCore", "SetpointExec", "SetpointRemote", "SetpointTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SetpointControllerTests",
            dependencies: [
                "SetpointController", "SetpointCore", "SetpointEngine", "SetpointState", "SetpointTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SetpointPrometheusTests",
            dependencies: [
                "SetpointPrometheus", "SetpointCLI", "SetpointCore", "SetpointEngine", "SetpointTesting",
                "SetpointHTTP",
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SetpointFuzzingTests",
            dependencies: ["SetpointFuzzing", "SetpointTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PVESimTests",
            dependencies: [
                "PVESim", "SetpointHTTP", "SetpointTesting", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
