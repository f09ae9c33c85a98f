import Foundation
import Specs

/// An error from the package index or the local name index: `kind` to match on,
/// `message` for people.
public struct IndexError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The index has no such project (HTTP 404, or no file in any find-links place).
        case projectNotFound
        /// The index could not be reached or answered with an error status.
        case unreachable
        /// The index answered something that is neither PEP 691 JSON nor PEP 503 HTML.
        case malformedResponse
        /// `refresh` has not been run: there is no local name index.
        case noLocalIndex
        /// The local name index could not be read or written.
        case database
        /// A command-line value that makes no sense (`--python 2.7`).
        case invalidArgument
    }
    public var kind: Kind
    public var message: String
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }
    public var description: String { message }
}

/// One file of a project, as an index lists it.
public struct IndexFile: Sendable, Hashable {
    public var filename: String
    public var url: String
    /// `requires-python` / `data-requires-python`, unparsed: an invalid value
    /// is ignored at evaluation time, as pip does.
    public var requiresPython: String?
    /// Nil when not yanked; the reason (possibly empty) otherwise.
    public var yanked: String?
    public init(filename: String, url: String, requiresPython: String? = nil, yanked: String? = nil) {
        self.filename = filename
        self.url = url
        self.requiresPython = requiresPython
        self.yanked = yanked
    }
}

/// PEP 691 JSON and PEP 503 HTML, parsed into the same shapes.
enum SimpleAPI {
    static let jsonType = "application/vnd.pypi.simple.v1+json"
    /// JSON first; HTML (both spellings) for PEP 503-only indexes.
    static let accept = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1"

    static func isJSON(contentType: String?) -> Bool {
        guard let contentType else { return false }
        return contentType.lowercased().hasPrefix(jsonType) || contentType.lowercased().hasPrefix("application/json")
    }

    // MARK: project list

    private struct JSONProjectList: Decodable {
        struct Entry: Decodable { var name: String }
        var projects: [Entry]
    }

    /// Project names (as the index spells them) from `/simple/`.
    static func projectNames(_ body: Data, contentType: String?) throws(IndexError) -> [String] {
        if isJSON(contentType: contentType) {
            do {
                return try JSONDecoder().decode(JSONProjectList.self, from: body).projects.map(\.name)
            } catch {
                throw IndexError(.malformedResponse, "project list is not PEP 691 JSON: \(error)")
            }
        }
        // PEP 503: one anchor per project; its text is the name. Attributes
        // are skipped: 700,000 dictionaries would double the peak memory.
        return anchors(in: body, attributes: false).map { decodeEntities($0.text).trimmingCharacters(in: .whitespacesAndNewlines) }
            .filter { !$0.isEmpty }
    }

    // MARK: project page

    private struct JSONProject: Decodable {
        struct File: Decodable {
            var filename: String
            var url: String
            var requiresPython: String?
            var yanked: Yanked?
            enum CodingKeys: String, CodingKey {
                case filename, url, yanked
                case requiresPython = "requires-python"
            }
        }
        /// PEP 691: `false`, `true`, or the reason as a string.
        enum Yanked: Decodable {
            case flag(Bool), reason(String)
            init(from decoder: any Decoder) throws {
                let c = try decoder.singleValueContainer()
                if let b = try? c.decode(Bool.self) { self = .flag(b) } else { self = .reason(try c.decode(String.self)) }
            }
            var reason: String? {
                switch self {
                case .flag(let b): b ? "" : nil
                case .reason(let r): r
                }
            }
        }
        var files: [File]
    }

    /// The files of `/simple/<project>/`, with URLs resolved against `base`.
    static func projectFiles(_ body: Data, contentType: String?, base: URL) throws(IndexError) -> [IndexFile] {
        if isJSON(contentType: contentType) {
            do {
                return try JSONDecoder().decode(JSONProject.self, from: body).files.map {
                    IndexFile(filename: $0.filename, url: resolve($0.url, base: base),
                              requiresPython: $0.requiresPython, yanked: $0.yanked?.reason)
                }
            } catch {
                throw IndexError(.malformedResponse, "project page is not PEP 691 JSON: \(error)")
            }
        }
        return anchors(in: body).compactMap { anchor in
            guard let href = anchor.attributes["href"] else { return nil }
            let resolved = resolve(decodeEntities(href), base: base)
            let path = URL(string: resolved)?.path ?? resolved
            let filename = (path.split(separator: "/").last.map(String.init) ?? "").removingPercentEncoding ?? ""
            guard !filename.isEmpty else { return nil }
            return IndexFile(filename: filename, url: resolved,
                             requiresPython: anchor.attributes["data-requires-python"].map(decodeEntities),
                             yanked: anchor.attributes["data-yanked"].map(decodeEntities))
        }
    }

    static func resolve(_ href: String, base: URL) -> String {
        URL(string: href, relativeTo: base)?.absoluteString ?? href
    }

    // MARK: a small HTML anchor scanner

    struct Anchor {
        var attributes: [String: String]
        var text: String
    }

    /// `<a …>text</a>` elements, attributes lowercased. PEP 503 pages are
    /// machine-written and simple; a full HTML parser is not needed, but
    /// attribute quoting (single, double, none) and valueless attributes
    /// (`data-yanked`) are handled.
    static func anchors(in body: Data, attributes wantAttributes: Bool = true) -> [Anchor] {
        body.withUnsafeBytes { anchors(in: $0, attributes: wantAttributes) }
    }

    private static func anchors(in bytes: UnsafeRawBufferPointer, attributes wantAttributes: Bool) -> [Anchor] {
        var result: [Anchor] = []
        var i = 0
        let n = bytes.count
        func lower(_ b: UInt8) -> UInt8 { (b >= 65 && b <= 90) ? b + 32 : b }
        func isSpace(_ b: UInt8) -> Bool { b == 32 || b == 9 || b == 10 || b == 13 || b == 12 }
        while i < n {
            guard bytes[i] == UInt8(ascii: "<"), i + 2 < n, lower(bytes[i + 1]) == UInt8(ascii: "a"), isSpace(bytes[i + 2]) || bytes[i + 2] == UInt8(ascii: ">") else {
                i += 1
                continue
            }
            i += 2
            var attributes: [String: String] = [:]
            // Attributes up to '>'.
            while i < n, bytes[i] != UInt8(ascii: ">") {
                while i < n, isSpace(bytes[i]) { i += 1 }
                let nameStart = i
                while i < n, !isSpace(bytes[i]), bytes[i] != UInt8(ascii: "="), bytes[i] != UInt8(ascii: ">") { i += 1 }
                let name = wantAttributes ? String(decoding: bytes[nameStart..<i].map(lower), as: UTF8.self) : ""
                while i < n, isSpace(bytes[i]) { i += 1 }
                var value = ""
                if i < n, bytes[i] == UInt8(ascii: "=") {
                    i += 1
                    while i < n, isSpace(bytes[i]) { i += 1 }
                    if i < n, bytes[i] == UInt8(ascii: "\"") || bytes[i] == UInt8(ascii: "'") {
                        let quote = bytes[i]
                        i += 1
                        let start = i
                        while i < n, bytes[i] != quote { i += 1 }
                        if wantAttributes { value = String(decoding: bytes[start..<min(i, n)], as: UTF8.self) }
                        i += 1
                    } else {
                        let start = i
                        while i < n, !isSpace(bytes[i]), bytes[i] != UInt8(ascii: ">") { i += 1 }
                        if wantAttributes { value = String(decoding: bytes[start..<i], as: UTF8.self) }
                    }
                }
                if wantAttributes, !name.isEmpty, name != "/" { attributes[name] = value }
            }
            i += 1
            let textStart = min(i, n)
            while i < n, bytes[i] != UInt8(ascii: "<") { i += 1 }
            result.append(Anchor(attributes: attributes, text: String(decoding: bytes[textStart..<min(i, n)], as: UTF8.self)))
        }
        return result
    }

    static func decodeEntities(_ s: String) -> String {
        guard s.contains("&") else { return s }
        var out = s
        for (entity, char) in [("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&#39;", "'"), ("&#x27;", "'"), ("&amp;", "&")] {
            out = out.replacingOccurrences(of: entity, with: char)
        }
        return out
    }
}
