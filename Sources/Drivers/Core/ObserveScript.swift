// The one observe command per host, composed from every driver's fragment.
// The sh wrapper picks a python3 and pipes the program (on stdin) into it; a
// host without python3 still answers, with OS facts only, so drivers can plan
// the steps that install it.

import Foundation
import Remote

/// What to observe on one host: each driver's request, by driver name.
public struct ObservationRequest: Sendable, Hashable {
    public var drivers: [String: JSONValue]
    /// Each requested driver's fragment source, by driver name.
    public var fragments: [String: String]
    /// Directories judged by the apply script's path rules (`Driver.pathsToCheck`).
    public var paths: [CheckedPath]

    public init(drivers: [String: JSONValue] = [:], fragments: [String: String] = [:], paths: [CheckedPath] = []) {
        self.drivers = drivers
        self.fragments = fragments
        self.paths = paths
    }

    /// The request argument: `{"drivers": {...}, "paths": [...]}`, compact with
    /// sorted keys; `paths` only when there are any.
    public var json: String {
        var object: [String: JSONValue] = ["drivers": .object(drivers)]
        if !paths.isEmpty {
            object["paths"] = .array(paths.map {
                .object(["path": .string($0.path), "create": .bool($0.create), "owned": .bool($0.ownedLeaf)])
            })
        }
        return JSONValue.object(object).jsonText
    }

    /// The whole Python program: the helpers and the requested fragments as
    /// string literals, then the main script that runs them.
    public var program: String {
        var s = "LIB = \(pythonStringLiteral(ObserveScript.lib))\nFRAGMENTS = {\n"
        for name in fragments.keys.sorted() where drivers[name] != nil {
            s += "    \(pythonStringLiteral(name)): \(pythonStringLiteral(fragments[name]!)),\n"
        }
        return s + "}\n" + ObserveScript.main
    }
}

/// A JSON string literal, which is also a valid Python 3 string literal
/// (JSON's escapes are a subset of Python's).
func pythonStringLiteral(_ text: String) -> String {
    JSONValue.string(text).jsonText
}

/// The command that observes a host: `/bin/sh -c WRAPPER labsync-observe REQUEST_JSON`,
/// with the Python program on stdin.
public func observeCommand(_ request: ObservationRequest, become: Become) -> RemoteCommand {
    RemoteCommand("/bin/sh", ["-c", ObserveScript.wrapper, "labsync-observe", request.json],
                  stdin: Array(request.program.utf8), become: become)
}

public struct ObservationError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable { case notJSON, unexpectedShape }
    public var kind: Kind
    public var message: String
    public var description: String { message }
}

/// Parses what the observe command printed: the program's JSON document, or the
/// wrapper's fallback (`labsync-observe-fallback 1`, then `systemd=0|1`, then the
/// contents of /etc/os-release) from a host without python3.
public func decodeObservation(_ bytes: [UInt8]) throws(ObservationError) -> HostObservation {
    let text = String(decoding: bytes, as: UTF8.self)
    if text.hasPrefix(ObserveScript.fallbackHeader) {
        return ObserveScript.decodeFallback(text)
    }
    do {
        return try JSONDecoder().decode(HostObservation.self, from: Data(bytes))
    } catch let error as DecodingError {
        let snippet = String(text.prefix(200))
        throw ObservationError(kind: text.hasPrefix("{") ? .unexpectedShape : .notJSON,
                               message: "the observe script printed something labsync cannot read (\(error.shortDescription)): \(snippet)")
    } catch {
        throw ObservationError(kind: .notJSON, message: "cannot read the observation: \(error)")
    }
}

extension DecodingError {
    public var shortDescription: String {
        switch self {
        case .dataCorrupted(let c): "invalid JSON at \(c.codingPath.pathText): \(c.debugDescription)"
        case .keyNotFound(let key, let c): "missing \(c.codingPath.pathText).\(key.stringValue)"
        case .typeMismatch(_, let c), .valueNotFound(_, let c): "wrong type at \(c.codingPath.pathText)"
        @unknown default: "\(self)"
        }
    }
}

extension [any CodingKey] {
    var pathText: String { map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".") }
}

public enum ObserveScript {
    static let fallbackHeader = "labsync-observe-fallback 1\n"

    /// POSIX sh (Scripts/observe_wrapper.sh). Prefers /usr/bin/python3 (a real
    /// VM's; also skips slow pyenv shims), then python3 on PATH. Without one:
    /// the fallback lines (see `decodeObservation`).
    public static let wrapper = embeddedScript(PackageResources.observe_wrapper_sh)
    /// Scripts/observe_lib.py: helpers every fragment may use.
    public static let lib = String(decoding: PackageResources.observe_lib_py, as: UTF8.self)
    /// Scripts/observe_main.py: runs the fragments, prints the document.
    public static let main = String(decoding: PackageResources.observe_main_py, as: UTF8.self)

    static func decodeFallback(_ text: String) -> HostObservation {
        var os = HostObservation.OperatingSystem(id: "", versionId: "", prettyName: "")
        var systemd = false
        for line in text.split(separator: "\n").dropFirst() {
            if line == "systemd=1" { systemd = true; continue }
            if line.hasPrefix("machine=") { os.machine = String(line.dropFirst(8)); continue }
            guard let eq = line.firstIndex(of: "=") else { continue }
            let value = osReleaseValue(line[line.index(after: eq)...])
            // The keys of observe_lib.py's OS_RELEASE_KEYS (ObserveScriptTests
            // runs both parsers over the same files).
            switch line[..<eq].trimmingCharacters(in: .whitespaces) {
            case "ID": os.id = value
            case "VERSION_ID": os.versionId = value
            case "PRETTY_NAME": os.prettyName = value
            case "ID_LIKE": os.idLike = value
            case "VERSION_CODENAME": os.versionCodename = value
            case "UBUNTU_CODENAME": os.ubuntuCodename = value
            case "DEBIAN_CODENAME": os.debianCodename = value
            default: break
            }
        }
        return HostObservation(os: os, systemd: systemd)
    }

    /// An os-release value: quotes removed, and in double quotes the
    /// backslash escapes os-release(5) allows, as observe_lib.py does.
    static func osReleaseValue(_ raw: Substring) -> String {
        let value = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard value.count >= 2, let q = value.first, q == "\"" || q == "'", value.last == q else { return value }
        let inner = value.dropFirst().dropLast()
        guard q == "\"" else { return String(inner) }
        var out = "", escaped = false
        for c in inner {
            if escaped || c != "\\" { out.append(c); escaped = false } else { escaped = true }
        }
        return escaped ? out + "\\" : out
    }
}
