import Foundation

/// The `labsync` executable built next to the test bundle, run as a user
/// would run it (end-to-end tests compare its output and exit code).
public enum LabsyncBinary {
    /// The package root, found from this file.
    public static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static var path: String {
        // `swift test` runs <build>/debug/labsyncPackageTests.xctest; the tool sits beside it.
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("labsync").path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        return packageRoot.appendingPathComponent(".build/debug/labsync").path
    }

    /// Runs `labsync args…` on a thread of its own: waiting for a process
    /// must not block Swift's small shared pool (other tests run on it).
    @discardableResult
    public static func runAsync(_ arguments: [String], env: [String: String] = [:], cwd: String? = nil,
                                stdin: [UInt8]? = nil, timeout: Double = 300) async throws -> SpawnResult {
        try await Spawn.offPool { try run(arguments, env: env, cwd: cwd, stdin: stdin, timeout: timeout) }
    }

    /// Runs `labsync args…` (blocking the calling thread).
    @discardableResult
    public static func run(_ arguments: [String], env: [String: String] = [:], cwd: String? = nil,
                           stdin: [UInt8]? = nil, timeout: Double = 300) throws -> SpawnResult {
        try Spawn.run([path] + arguments, env: env, stdin: stdin, cwd: cwd, timeout: timeout)
    }
}
