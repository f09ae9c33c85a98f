// swift-tools-version:6.0
import Foundation
import PackageDescription

// Every driver's remote scripts (Sources/Drivers/<Driver>/Scripts/*) are
// compiled into the binary as byte arrays (`PackageResources.<file_name>`), so
// a driver adds scripts by adding files, and the binary needs no bundle.
let driverScripts: [Resource] = {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Sources/Drivers")
    let folders = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
    return folders.sorted().flatMap { folder -> [Resource] in
        let scripts = root.appendingPathComponent(folder).appendingPathComponent("Scripts")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: scripts.path)) ?? []
        return files.filter { $0.hasSuffix(".sh") || $0.hasSuffix(".py") }.sorted()
            .map { .embedInCode("\(folder)/Scripts/\($0)") }
    }
}()

// Module map (see DESIGN.md "Code layout"):
//   Specs         pure: spec types, YAML loading with source marks, validation, PEP 440/508, R versions
//   Remote        SSH over libssh2 (the only importer of CLibSSH2), shell quoting, host keys, state directory
//   Drivers       the driver protocol (Core/), the registry, one folder per driver with its scripts
//   Reconciler    the pure planner, the plan and its renderers, the executor and the apply pipeline;
//                 links neither libgit2 nor a database
//   SpecSource    where specs come from: a directory or git (libgit2, the only importer of CLibGit2)
//   Journal       the run journal (SQLite through GRDB)
//   Daemon        the GitOps daemon: pure state machine, schedule, webhook, HTTP API, status page, metrics
//   PackageIndex  PEP 691/503 index client, local name index (SQLite), installability
//   labsync       the command-line tool, one file per subcommand
let package = Package(
    name: "labsync",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "labsync", targets: ["labsync"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // The daemon's HTTP limits (Sources/Daemon/HTTPLimits.swift) are a NIO channel handler.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibSSH2", path: "Sources/CLibSSH2", pkgConfig: "libssh2",
            providers: [.apt(["libssh2-1-dev"])]),
        .systemLibrary(
            name: "CLibGit2", path: "Sources/CLibGit2", pkgConfig: "libgit2",
            providers: [.apt(["libgit2-dev"])]),
        .target(name: "Specs", dependencies: [.product(name: "Yams", package: "Yams")]),
        // Specs for SSHKeyText: pins and known_hosts lines are parsed by one parser.
        .target(name: "Remote", dependencies: ["CLibSSH2", "Specs"]),
        .target(name: "Drivers", dependencies: ["Specs", "Remote"], resources: driverScripts),
        // The pure planner, the plan and its renderers, the executor: no libgit2, no database.
        .target(name: "Reconciler", dependencies: ["Specs", "Remote", "Drivers"]),
        // Where specs come from: a directory or a git repository (the only importer of CLibGit2).
        .target(name: "SpecSource", dependencies: ["Specs", "Remote", "CLibGit2"]),
        // The run journal in SQLite (GRDB): history, logs, the daemon's runs.
        .target(
            name: "Journal",
            dependencies: ["Drivers", "Reconciler", "Remote", .product(name: "GRDB", package: "GRDB.swift")]),
        .target(
            name: "Daemon",
            dependencies: [
                "Specs", "Remote", "Reconciler", "SpecSource", "Journal",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            // The pages' style sheet and script, inlined into each page.
            resources: [.embedInCode("Assets/pages.css"), .embedInCode("Assets/run-live.js")]),
        .target(
            name: "PackageIndex",
            dependencies: ["Specs", .product(name: "GRDB", package: "GRDB.swift")]),
        .executableTarget(
            name: "labsync",
            dependencies: [
                "Specs", "Remote", "Drivers", "Reconciler", "SpecSource", "Journal", "Daemon", "PackageIndex",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // Shared by the tests: the tier traits (.unit, .integration, .endToEnd), the
        // in-memory Transport for unit tests, and for integration tests a real sshd
        // on loopback, git fixtures, processes started with posix_spawn
        // (Foundation.Process hangs with sshd).
        .target(name: "LabsyncTestSupport", dependencies: ["Specs", "Remote"]),
        // The harness's sshd as a command, for `make demo` and `make bench`.
        .executableTarget(name: "labsync-testhost", dependencies: ["LabsyncTestSupport"]),
        .testTarget(name: "SpecsTests", dependencies: ["Specs", "LabsyncTestSupport"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "RemoteTests", dependencies: ["Remote", "LabsyncTestSupport"]),
        .testTarget(name: "DriversTests", dependencies: ["Drivers", "LabsyncTestSupport"],
                    exclude: ["Fixtures"]),
        // Golden plans are read through #filePath (and re-recorded in place).
        .testTarget(name: "ReconcilerTests", dependencies: ["Reconciler", "SpecSource", "Journal", "LabsyncTestSupport"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "DaemonTests", dependencies: ["Daemon", "Journal", "SpecSource", "LabsyncTestSupport"]),
        .testTarget(name: "PackageIndexTests", dependencies: ["PackageIndex", "LabsyncTestSupport"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "labsyncTests", dependencies: ["LabsyncTestSupport"]),
    ]
)
