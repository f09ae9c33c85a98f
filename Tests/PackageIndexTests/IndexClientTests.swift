import Foundation
import LabsyncTestSupport
@testable import PackageIndex
import Specs
import Testing

/// The client against a real HTTP server on loopback serving the generated
/// index, in its PEP 691 JSON and PEP 503 HTML forms.
@Suite(.integration) struct IndexClientTests {
    private func cacheDirectory() throws -> URL {
        URL(fileURLWithPath: try Spawn.makeTempDirectory(prefix: "pkgindex-cache"))
    }

    @Test(arguments: [false, true])
    func jsonAndHTMLGiveTheSameFiles(htmlOnly: Bool) async throws {
        let server = try await IndexServer.start(htmlOnly: htmlOnly)
        defer { Task { await server.stop() } }
        let client = IndexClient(settings: IndexSettings(url: server.url), cacheDirectory: try cacheDirectory())

        let (names, _) = try await client.projectList()
        #expect(names.contains("Pure_Lib") && names.contains("numpy") && names.count == 11)

        let files = try await client.files(project: "NumPy")
        #expect(files.count == 10)
        let wheel = try #require(files.first { $0.filename == "numpy-1.21.0-cp39-cp39-manylinux1_x86_64.whl" })
        #expect(wheel.requiresPython == ">=3.7,<3.11")
        #expect(wheel.yanked == nil)
        #expect(wheel.url.hasPrefix("http://127.0.0.1:\(server.port)/files/numpy-1.21.0-cp39"))
        #expect(files.first { $0.filename == "numpy-2.2.0-cp313-cp313-manylinux_2_17_x86_64.whl" }?.yanked == "broken build")
        #expect(files.first { $0.filename == "numpy-2.2.0.tar.gz" }?.yanked == "")
        #expect(server.requests.allSatisfy { $0.hasSuffix(htmlOnly ? " html" : " json") })
    }

    @Test func unknownProjectIsNotFound() async throws {
        let server = try await IndexServer.start()
        defer { Task { await server.stop() } }
        let client = IndexClient(settings: IndexSettings(url: server.url), cacheDirectory: nil)
        await #expect(throws: IndexError(.projectNotFound, "no project \"no-such-thing\" on \(server.url)")) {
            _ = try await client.files(project: "no_such.thing")
        }
    }

    @Test func unreachableIndexIsAnError() async throws {
        // Port 9 (discard): nothing listens there on a test machine.
        let client = IndexClient(settings: IndexSettings(url: "http://127.0.0.1:9/simple/"), cacheDirectory: nil)
        do {
            _ = try await client.files(project: "numpy")
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .unreachable)
        }
    }

    /// Second request carries If-None-Match; the server answers 304 and the
    /// cached body is used.
    @Test func etagRevalidation() async throws {
        let server = try await IndexServer.start()
        defer { Task { await server.stop() } }
        let cache = try cacheDirectory()
        let first = try await IndexClient(settings: IndexSettings(url: server.url), cacheDirectory: cache).files(project: "numpy")
        let second = try await IndexClient(settings: IndexSettings(url: server.url), cacheDirectory: cache).files(project: "numpy")
        #expect(first == second)
        #expect(server.requests == ["/simple/numpy/ 200 json", "/simple/numpy/ 304 json"])
        let (_, list1) = try await IndexClient(settings: IndexSettings(url: server.url), cacheDirectory: cache).projectList()
        let (_, list2) = try await IndexClient(settings: IndexSettings(url: server.url), cacheDirectory: cache).projectList()
        #expect(!list1.notModified && list2.notModified)
        #expect(list1.validator == list2.validator && list1.validator?.hasPrefix("\"") == true)
    }

    /// Without ETags, Last-Modified / If-Modified-Since does the same; a
    /// changed page is downloaded again.
    @Test func lastModifiedRevalidation() async throws {
        let server = try await IndexServer.start(noETag: true)
        defer { Task { await server.stop() } }
        let cache = try cacheDirectory()
        let client = IndexClient(settings: IndexSettings(url: server.url), cacheDirectory: cache)
        _ = try await client.files(project: "scipy")
        _ = try await client.files(project: "scipy")
        #expect(server.requests == ["/simple/scipy/ 200 json", "/simple/scipy/ 304 json"])

        // The page changes (a new release, a newer mtime): fetched again.
        let page = server.root + "/simple/scipy/index.json"
        let text = try String(contentsOfFile: page, encoding: .utf8)
            .replacingOccurrences(of: "scipy-1.14.0.tar.gz", with: "scipy-1.15.0.tar.gz")
        try text.write(toFile: page, atomically: true, encoding: .utf8)
        let later = Date().addingTimeInterval(5)
        try FileManager.default.setAttributes([.modificationDate: later], ofItemAtPath: page)
        let files = try await client.files(project: "scipy")
        #expect(files.map(\.filename) == ["scipy-1.15.0.tar.gz"])
        #expect(server.requests.last == "/simple/scipy/ 200 json")
    }

    @Test func extraIndexURLsAreMerged() async throws {
        let main = try await IndexServer.start()
        defer { Task { await main.stop() } }
        // A second index with one more numpy release.
        let extraRoot = try Spawn.makeTempDirectory(prefix: "pkgindex-extra")
        try FileManager.default.createDirectory(atPath: extraRoot + "/simple/numpy", withIntermediateDirectories: true)
        try #"{"meta":{"api-version":"1.0"},"name":"numpy","files":[{"filename":"numpy-9.0-py3-none-any.whl","url":"x.whl"}]}"#
            .write(toFile: extraRoot + "/simple/numpy/index.json", atomically: true, encoding: .utf8)
        try "<a href=\"x.whl\">numpy-9.0-py3-none-any.whl</a>".write(toFile: extraRoot + "/simple/numpy/index.html", atomically: true, encoding: .utf8)
        let extra = try await IndexServer.start(root: extraRoot)
        defer { Task { await extra.stop() } }

        let client = IndexClient(settings: IndexSettings(url: main.url, extraUrls: [extra.url]), cacheDirectory: nil)
        let files = try await client.files(project: "numpy")
        #expect(files.count == 11)
        #expect(files.contains { $0.filename == "numpy-9.0-py3-none-any.whl" })
        // A project only the main index has is still found.
        #expect(try await client.files(project: "scipy").count == 1)
    }

    @Test func findLinksDirectoryAndNoIndex() async throws {
        let dir = try Spawn.makeTempDirectory(prefix: "pkgindex-findlinks")
        for name in ["localpkg-1.0-py3-none-any.whl", "localpkg-0.5.tar.gz", "other-1.0.tar.gz", "README.txt"] {
            FileManager.default.createFile(atPath: dir + "/" + name, contents: Data())
        }
        let client = IndexClient(settings: IndexSettings(findLinks: [dir], noIndex: true), cacheDirectory: nil)
        #expect(client.indexURLs.isEmpty)
        let files = try await client.files(project: "LocalPkg")
        #expect(files.map(\.filename) == ["localpkg-0.5.tar.gz", "localpkg-1.0-py3-none-any.whl"])
        await #expect(throws: IndexError.self) { _ = try await client.files(project: "numpy") }
        let versions = Installability(target: try InstallTarget(python: "3.12")).installableVersions(files, project: "localpkg")
        #expect(versions.map(\.version.description) == ["1.0", "0.5"])
    }

    @Test func defaultIndexIsThePublicOne() {
        // Only the configuration: no test touches the public index.
        #expect(IndexClient(settings: nil, cacheDirectory: nil).indexURLs == ["https://pypi.org/simple/"])
        #expect(IndexClient(settings: IndexSettings(url: "http://mirror/simple"), overrideURL: nil, cacheDirectory: nil).indexURLs == ["http://mirror/simple/"])
        #expect(IndexClient(settings: IndexSettings(url: "http://a/"), overrideURL: "http://b/", cacheDirectory: nil).indexURLs == ["http://b/"])
    }

    @Test func htmlAnchorsWithOddQuoting() {
        let html = #"<A HREF='a/foo-1.0.tar.gz' data-yanked>x</A><a href=b/foo-2.0.tar.gz data-requires-python="&gt;=3.8">y</a><abbr>no</abbr>"#
        let files = try! SimpleAPI.projectFiles(Data(html.utf8), contentType: "text/html", base: URL(string: "http://h/simple/foo/")!)
        #expect(files == [
            IndexFile(filename: "foo-1.0.tar.gz", url: "http://h/simple/foo/a/foo-1.0.tar.gz", yanked: ""),
            IndexFile(filename: "foo-2.0.tar.gz", url: "http://h/simple/foo/b/foo-2.0.tar.gz", requiresPython: ">=3.8"),
        ])
    }
}
