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

    /// Runs `labsync args…` with a private state directory unless one is given.
    @discardableResult
    public static func run(_ arguments: [String], env: [String: String] = [:], cwd: String? = nil,
                           stdin: [UInt8]? = nil, timeout: Double = 300) throws -> SpawnResult {
        try Spawn.run([path] + arguments, env: env, stdin: stdin, cwd: cwd, timeout: timeout)
    }
}
