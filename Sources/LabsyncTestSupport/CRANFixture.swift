import Foundation

/// A tiny CRAN-like repository (scripts/make-cran-fixture.sh: `fxr` 0.3-0 with
/// 0.2-1 in the Archive, `labsyncdemo` importing fxr, `fxrange` importing
/// `fxr (>= 0.3-0)`), built with real R once per test process and offered as
/// `file://` and over loopback HTTP, so no R test touches the internet.
public enum CRANFixture {
    public static let script = LabsyncBinary.packageRoot.appendingPathComponent("scripts/make-cran-fixture.sh").path

    /// Building takes seconds (four `R CMD build`s): once per process, shared by
    /// every test; a failure is kept and reported to each test that asks.
    private static let built: Result<String, SpawnError> = {
        do {
            let dir = try Spawn.makeTempDirectory(prefix: "cran")
            // Readable by the unprivileged users of the SSH test hosts.
            chmod(dir, 0o755)
            let result = try Spawn.run([script, dir], timeout: 300)
            guard result.status == 0 else {
                try? FileManager.default.removeItem(atPath: dir)
                return .failure(SpawnError("make-cran-fixture.sh exited \(result.status): \(result.stderrText)"))
            }
            // Shared until the process ends, so removed only then.
            atexit { if case .success(let dir) = CRANFixture.built { try? FileManager.default.removeItem(atPath: dir) } }
            return .success(dir)
        } catch let error as SpawnError {
            return .failure(error)
        } catch {
            return .failure(SpawnError("\(error)"))
        }
    }()

    /// The repository's directory (it holds `src/contrib`).
    public static func directory() throws -> String { try built.get() }

    /// The repository as a `file://` URL, for `repos`.
    public static func fileURL() throws -> String { "file://" + (try directory()) }

    /// Serves the repository on 127.0.0.1 (a free port) until `stop()`, at most
    /// `lifetime` seconds so that a crashed test leaves no server behind.
    public static func serve(lifetime: Int = 900) async throws -> CRANServer {
        let root = try directory()
        let work = try Spawn.makeTempDirectory(prefix: "cran-http")
        let log = work + "/log"
        // -u: unbuffered, so the "Serving HTTP on … port N" line is there to read.
        let process = try Spawn.start(
            ["timeout", String(lifetime), "python3", "-u", "-m", "http.server", "--bind", "127.0.0.1",
             "--directory", root, "0"],
            stdoutPath: log, stderrPath: log)
        for _ in 0..<250 {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if let range = text.range(of: #"port (\d+)"#, options: .regularExpression),
               let port = Int(text[range].dropFirst(5)) {
                return CRANServer(process: process, port: port, work: work)
            }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        try await Spawn.offPool { process.stop() }
        throw SpawnError("CRAN fixture server did not start: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
    }
}

/// `python3 -m http.server` on loopback serving the CRAN fixture.
public final class CRANServer: @unchecked Sendable {
    public let port: Int
    let process: BackgroundProcess
    let work: String

    init(process: BackgroundProcess, port: Int, work: String) {
        self.process = process
        self.port = port
        self.work = work
    }

    /// The repository URL, for `repos`.
    public var url: String { "http://127.0.0.1:\(port)" }

    /// The request lines logged so far (`"GET /src/contrib/PACKAGES HTTP/1.1" 200 -`).
    public var requests: [String] {
        ((try? String(contentsOfFile: work + "/log", encoding: .utf8)) ?? "")
            .split(separator: "\n").filter { $0.contains("\"GET ") }.map(String.init)
    }

    public func stop() async {
        _ = try? await Spawn.offPool { self.process.stop() }
        try? FileManager.default.removeItem(atPath: work)
    }
}
