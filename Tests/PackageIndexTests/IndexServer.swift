import Foundation
import LabsyncTestSupport

/// `scripts/index-server.py` on loopback, serving the generated test index
/// (the FIXTURE table in that script) in JSON and HTML, with ETags.
final class IndexServer: @unchecked Sendable {
    let root: String
    let process: BackgroundProcess
    let port: Int
    let logPath: String
    var url: String { "http://127.0.0.1:\(port)/simple/" }

    static let script = LabsyncBinary.packageRoot.appendingPathComponent("scripts/index-server.py").path

    /// Writes a fresh fixture tree (or uses `root`) and starts serving it.
    static func start(htmlOnly: Bool = false, noETag: Bool = false, root given: String? = nil) async throws -> IndexServer {
        let root = try given ?? {
            let dir = try Spawn.makeTempDirectory(prefix: "pkgindex-tree")
            _ = try Spawn.check(["python3", script, "--write-fixture", dir])
            return dir
        }()
        let work = try Spawn.makeTempDirectory(prefix: "pkgindex-server")
        let portFile = work + "/port"
        let log = work + "/requests.log"
        var argv = ["python3", script, root, "--port-file", portFile, "--log", log]
        if htmlOnly { argv.append("--html-only") }
        if noETag { argv.append("--no-etag") }
        let process = try Spawn.start(argv, stderrPath: work + "/stderr")
        for _ in 0..<200 {
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8), let port = Int(text) {
                return IndexServer(root: root, work: work, process: process, port: port, logPath: log)
            }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        try await Spawn.offPool { process.stop() }
        throw SpawnError("index server did not start: \((try? String(contentsOfFile: work + "/stderr", encoding: .utf8)) ?? "")")
    }

    private let work: String

    private init(root: String, work: String, process: BackgroundProcess, port: Int, logPath: String) {
        self.root = root
        self.work = work
        self.process = process
        self.port = port
        self.logPath = logPath
    }

    /// `PATH STATUS FORMAT` for every request so far.
    var requests: [String] {
        ((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    func stop() async {
        _ = try? await Spawn.offPool { self.process.stop() }
        try? FileManager.default.removeItem(atPath: work)
        try? FileManager.default.removeItem(atPath: root)
    }
}
