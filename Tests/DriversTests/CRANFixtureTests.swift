import Foundation
import LabsyncTestSupport
import Testing

/// The R driver installs latest versions with `install.packages` and exact pins
/// with `remotes::install_version` from the repository's Archive. These tests
/// prove, with real R and the local CRAN fixture, that both work from a
/// `file://` and from a loopback HTTP repository, so the driver can rely on them.
@Suite(.integration, .serialized) struct CRANFixtureTests {
    /// Runs R code with `--vanilla` (no site or user profile choosing a mirror).
    func r(_ code: String) async throws -> SpawnResult {
        try await Spawn.runAsync(["Rscript", "--vanilla", "-e", code], timeout: 300)
    }

    func installedVersion(_ lib: String, _ package: String) -> String? {
        guard let text = try? String(contentsOfFile: "\(lib)/\(package)/DESCRIPTION", encoding: .utf8) else { return nil }
        return text.split(separator: "\n").first { $0.hasPrefix("Version:") }
            .map { $0.dropFirst("Version:".count).trimmingCharacters(in: .whitespaces) }
    }

    /// R string literal: the paths are ours (mkdtemp), but quote them properly anyway.
    func lit(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    @Test func installPackagesFromFileURLGetsTheNewestVersion() async throws {
        let repo = try await Spawn.offPool { try CRANFixture.fileURL() }
        let lib = try Spawn.makeTempDirectory(prefix: "rlib")
        defer { try? FileManager.default.removeItem(atPath: lib) }
        let result = try await r("install.packages(c('fxr', 'labsyncdemo'), repos = \(lit(repo)), lib = \(lit(lib)), type = 'source'); "
            + ".libPaths(\(lit(lib))); library(labsyncdemo); cat(hello(), '\\n')")
        #expect(result.status == 0, "\(result.stderrText)")
        #expect(installedVersion(lib, "fxr") == "0.3-0")
        #expect(installedVersion(lib, "labsyncdemo") == "1.0")
        #expect(result.stdoutText.contains("hello from labsyncdemo with fxr 0.3-0"), "\(result.stdoutText)")
    }

    @Test func installVersionOverHTTPTakesTheExactPinFromTheArchive() async throws {
        _ = try await Spawn.offPool { try CRANFixture.directory() }
        let server = try await CRANFixture.serve()
        let lib = try Spawn.makeTempDirectory(prefix: "rlib")
        defer { try? FileManager.default.removeItem(atPath: lib) }
        let result = try await r("remotes::install_version('fxr', version = '0.2-1', repos = \(lit(server.url)), "
            + "lib = \(lit(lib)), upgrade = 'never', quiet = TRUE)")
        let requests = server.requests
        await server.stop()
        #expect(result.status == 0, "\(result.stderrText)")
        #expect(installedVersion(lib, "fxr") == "0.2-1")
        #expect(requests.contains { $0.contains("GET /src/contrib/Archive/fxr/fxr_0.2-1.tar.gz") }, "\(requests)")
    }

    /// Same pin from `file://`: the driver passes the spec's repos as they are.
    @Test func installVersionFromFileURL() async throws {
        let repo = try await Spawn.offPool { try CRANFixture.fileURL() }
        let lib = try Spawn.makeTempDirectory(prefix: "rlib")
        defer { try? FileManager.default.removeItem(atPath: lib) }
        let result = try await r("remotes::install_version('fxr', version = '0.2-1', repos = \(lit(repo)), "
            + "lib = \(lit(lib)), upgrade = 'never', quiet = TRUE)")
        #expect(result.status == 0, "\(result.stderrText)")
        #expect(installedVersion(lib, "fxr") == "0.2-1")
    }
}
