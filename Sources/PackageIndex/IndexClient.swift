import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Specs

/// A response, fresh or revalidated from the cache.
public struct CachedResponse: Sendable {
    public var body: Data
    public var contentType: String?
    /// The ETag, else the Last-Modified date: what identifies this body.
    public var validator: String?
    /// True when the server answered 304 and the body came from the cache.
    public var notModified: Bool
}

/// HTTP GET with conditional requests: each URL's last body is kept in
/// `directory` with its ETag / Last-Modified, sent back as If-None-Match /
/// If-Modified-Since, so an unchanged index costs a 304 and no download.
///
/// Foundation's own URLCache is off: on Linux it would answer 304s itself
/// and hide them, and it keeps its store outside the state directory.
public final class HTTPCache: Sendable {
    public let directory: URL?
    private let session: URLSession

    public init(directory: URL?) {
        self.directory = directory
        let configuration = URLSessionConfiguration.ephemeral
        configuration.urlCache = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.timeoutIntervalForRequest = 60
        session = URLSession(configuration: configuration)
    }

    private struct Meta: Codable {
        var url: String
        var etag: String?
        var lastModified: String?
        var contentType: String?
    }

    /// FNV-1a: a stable file name per URL (Hasher is seeded per process).
    private func key(_ url: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in url.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let readable = url.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) ? Character($0) : "_" }
        return String(String(readable).suffix(60)) + "-" + String(hash, radix: 16)
    }

    public func get(_ url: URL, accept: String) async throws(IndexError) -> CachedResponse {
        let key = key(url.absoluteString)
        let metaURL = directory?.appendingPathComponent(key + ".json")
        let bodyURL = directory?.appendingPathComponent(key + ".body")
        var cached: Meta?
        if let metaURL, let data = try? Data(contentsOf: metaURL), let meta = try? JSONDecoder().decode(Meta.self, from: data),
           meta.url == url.absoluteString, let bodyURL, FileManager.default.fileExists(atPath: bodyURL.path) {
            cached = meta
        }
        var request = URLRequest(url: url)
        request.setValue(accept, forHTTPHeaderField: "Accept")
        if let etag = cached?.etag { request.setValue(etag, forHTTPHeaderField: "If-None-Match") }
        if let date = cached?.lastModified { request.setValue(date, forHTTPHeaderField: "If-Modified-Since") }

        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(for: request)
        } catch {
            throw IndexError(.unreachable, "\(url.absoluteString): \(error.localizedDescription)")
        }
        guard let http = response as? HTTPURLResponse else {
            throw IndexError(.malformedResponse, "\(url.absoluteString): not an HTTP response")
        }
        switch http.statusCode {
        case 304:
            guard let cached, let bodyURL, let body = try? Data(contentsOf: bodyURL) else {
                throw IndexError(.malformedResponse, "\(url.absoluteString): 304 Not Modified for a request that was not conditional")
            }
            return CachedResponse(body: body, contentType: cached.contentType, validator: cached.etag ?? cached.lastModified, notModified: true)
        case 200..<300:
            let meta = Meta(url: url.absoluteString, etag: http.value(forHTTPHeaderField: "ETag"),
                            lastModified: http.value(forHTTPHeaderField: "Last-Modified"),
                            contentType: http.value(forHTTPHeaderField: "Content-Type"))
            if let directory, let metaURL, let bodyURL, meta.etag != nil || meta.lastModified != nil {
                // Body first, then the metadata that makes it usable: a crash
                // in between leaves a body without validators, never the reverse.
                try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                try? data.write(to: bodyURL, options: .atomic)
                if let encoded = try? JSONEncoder().encode(meta) { try? encoded.write(to: metaURL, options: .atomic) }
            }
            return CachedResponse(body: data, contentType: meta.contentType, validator: meta.etag ?? meta.lastModified, notModified: false)
        case 404, 410:
            throw IndexError(.projectNotFound, "\(url.absoluteString): not found")
        default:
            throw IndexError(.unreachable, "\(url.absoluteString): HTTP \(http.statusCode)")
        }
    }
}

/// Reads a package index the way pip would with the same settings: `url`
/// (default the public index) plus `extraUrls`, local `findLinks` directories
/// (or pages), and `noIndex` to use find-links alone.
public struct IndexClient: Sendable {
    public static let defaultIndexURL = "https://pypi.org/simple/"

    public var indexURLs: [String]
    public var findLinks: [String]
    public let cache: HTTPCache

    /// `overrideURL` (a `--index` option) replaces the settings' index URLs.
    public init(settings: IndexSettings?, overrideURL: String? = nil, cacheDirectory: URL?) {
        self.init(settings: settings, overrideURL: overrideURL, cache: HTTPCache(directory: cacheDirectory))
    }

    /// Clients for several index settings can share one cache (one URLSession).
    public init(settings: IndexSettings?, overrideURL: String? = nil, cache: HTTPCache) {
        var urls: [String] = []
        if let overrideURL {
            urls = [overrideURL]
        } else if settings?.noIndex != true {
            urls = [settings?.url ?? Self.defaultIndexURL] + (settings?.extraUrls ?? [])
        }
        indexURLs = urls.map { $0.hasSuffix("/") ? $0 : $0 + "/" }
        findLinks = overrideURL == nil ? settings?.findLinks ?? [] : []
        self.cache = cache
    }

    /// The project list of the first index URL (the one `refresh` loads).
    public func projectList() async throws(IndexError) -> (names: [String], response: CachedResponse) {
        let response = try await projectListResponse()
        return (try Self.projectNames(response), response)
    }

    /// The project list response, unparsed: parsing 700,000 names is the
    /// expensive part, and an unchanged list (304) need not be parsed at all.
    public func projectListResponse() async throws(IndexError) -> CachedResponse {
        guard let base = indexURLs.first, let url = URL(string: base) else {
            throw IndexError(.invalidArgument, "no index URL to read the project list from (noIndex is set)")
        }
        return try await cache.get(url, accept: SimpleAPI.accept)
    }

    public static func projectNames(_ response: CachedResponse) throws(IndexError) -> [String] {
        try SimpleAPI.projectNames(response.body, contentType: response.contentType)
    }

    /// Every file of `project` on every configured index and find-links place.
    /// Throws `.projectNotFound` when none of them has it.
    public func files(project: String) async throws(IndexError) -> [IndexFile] {
        let name = normalizePackageName(project)
        var files: [IndexFile] = []
        var found = false
        for base in indexURLs {
            guard let url = URL(string: base + name + "/") else { continue }
            do {
                let response = try await cache.get(url, accept: SimpleAPI.accept)
                files += try SimpleAPI.projectFiles(response.body, contentType: response.contentType, base: url)
                found = true
            } catch where error.kind == .projectNotFound {
                continue
            }
        }
        for place in findLinks {
            let matching = try await findLinksFiles(place).filter {
                DistributionFilename($0.filename, project: name)?.normalizedName == name
            }
            if !matching.isEmpty { found = true }
            files += matching
        }
        guard found else {
            let places = indexURLs + findLinks
            throw IndexError(.projectNotFound, "no project \"\(name)\" on \(places.isEmpty ? "any index" : places.joined(separator: ", "))")
        }
        return files
    }

    /// A find-links place: a local directory (or `file://` URL) is listed; an
    /// http(s) URL is read as an HTML page of links, like pip does.
    private func findLinksFiles(_ place: String) async throws(IndexError) -> [IndexFile] {
        if place.hasPrefix("http://") || place.hasPrefix("https://") {
            guard let url = URL(string: place) else { return [] }
            let response = try await cache.get(url, accept: "text/html")
            return try SimpleAPI.projectFiles(response.body, contentType: "text/html", base: url)
        }
        let path = place.hasPrefix("file://") ? (URL(string: place)?.path ?? place) : place
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return entries.sorted().map { IndexFile(filename: $0, url: URL(fileURLWithPath: path).appendingPathComponent($0).absoluteString) }
    }
}
