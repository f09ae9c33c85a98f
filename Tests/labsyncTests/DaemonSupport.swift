// Shared setup for the daemon scenarios (Daemon*.swift): the REAL `labsync daemon`
// process against a REAL bare git repository and the loopback sshd of the pip
// scenarios, talked to over HTTP with a minimal client written here (no
// dependency, nothing to mock), and driven by headless Chromium for the pages.

import Foundation
import LabsyncTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A spec repository as a bare git repository, plus the scenario workspace
/// (sshd host, wheels, env root, state directory).
struct DaemonWorld {
    let w: Workspace
    let git: GitFixture
    let hostYAML: String
    let port: Int
    private let started = StartedProcesses()

    /// Daemons this world started, killed by `cleanUp` if a failed test left them running.
    final class StartedProcesses: @unchecked Sendable {
        var list: [BackgroundProcess] = []
    }

    init(_ name: String, files: [String: String]) throws {
        w = try Workspace("daemon-\(name)")
        hostYAML = contents(w.repo + "/host.yaml")
        var all = files
        all["host.yaml"] = hostYAML
        git = try GitFixture.create(in: URL(fileURLWithPath: w.directory), files: all)
        port = try SSHServer.freePort()
    }

    func cleanUp() {
        for process in started.list where process.isRunning {
            process.kill(SIGKILL)
            _ = process.wait(timeout: 10)
        }
        w.cleanUp()
    }

    var stateURL: URL { URL(fileURLWithPath: w.state) }

    /// Starts `labsync daemon` on this world's repository; output goes to `log`.
    func start(_ arguments: [String], env: [String: String] = [:]) throws -> DaemonProcess {
        let log = w.directory + "/daemon.log"
        let argv = [LabsyncBinary.path, "daemon", "--repo", git.path, "--state-dir", w.state,
                    "--listen", "127.0.0.1:\(port)"] + arguments
        let process = try Spawn.start(argv, env: env, stdoutPath: log, stderrPath: log)
        started.list.append(process)
        let daemon = DaemonProcess(process: process, port: port, log: log)
        #expect(waitUntil(timeout: 30) { (try? HTTP.get(port, "/healthz").status) == 200 }, "the daemon never served /healthz:\n\(contents(log))")
        return daemon
    }

    func labsync(_ arguments: [String]) throws -> SpawnResult {
        try LabsyncBinary.run(arguments + ["--state-dir", w.state], timeout: 120)
    }
}

struct DaemonProcess {
    let process: BackgroundProcess
    let port: Int
    let log: String

    /// `/api/status`, decoded loosely (as a client would read it).
    func status() throws -> [String: Any] {
        let response = try HTTP.get(port, "/api/status")
        guard response.status == 200, let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] else {
            throw SpawnError("/api/status: \(response.status) \(response.text)")
        }
        return object
    }

    func host(_ name: String) throws -> [String: Any]? {
        (try status()["hosts"] as? [[String: Any]])?.first { $0["name"] as? String == name }
    }

    /// The state of `resource` on `host` ("in-sync", "drifted", …), or nil.
    func state(_ host: String, _ resource: String) -> String? {
        guard let h = try? self.host(host), let resources = h["resources"] as? [[String: Any]] else { return nil }
        return resources.first { $0["resource"] as? String == resource }?["state"] as? String
    }

    func applied() -> String? { (try? status())?["lastAppliedRevision"] as? String }

    func wait(_ what: String, timeout: Double = 60, sourceLocation: SourceLocation = #_sourceLocation,
              _ condition: () throws -> Bool) {
        let ok = waitUntil(timeout: timeout) { (try? condition()) ?? false }
        #expect(ok, "timed out waiting for \(what); status: \((try? HTTP.get(port, "/api/status").text) ?? "-")\nlog tail:\n\(contents(log).suffix(3000))",
                sourceLocation: sourceLocation)
    }

    /// SIGTERM; the exit status (nil when it did not exit in time).
    func terminate(timeout: Double = 60) -> Int32? {
        process.kill(SIGTERM)
        let status = process.wait(timeout: timeout)
        if status == nil { process.kill(SIGKILL); _ = process.wait(timeout: 10) }
        return status
    }
}

/// A blocking HTTP/1.1 client over a loopback socket: one request per
/// connection (`Connection: close`), read to EOF.
enum HTTP {
    struct Reply {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    static func get(_ port: Int, _ path: String, timeout: Double = 10) throws -> Reply {
        try request(port, "GET", path, timeout: timeout)
    }

    static func post(_ port: Int, _ path: String, headers: [String: String] = [:], body: [UInt8]) throws -> Reply {
        try request(port, "POST", path, headers: headers, body: body)
    }

    /// Reads a Server-Sent Events stream until it ends (or `timeout`): the data
    /// lines and the end event's data.
    static func events(_ port: Int, _ path: String, timeout: Double = 60) throws -> (data: [String], end: String?) {
        let reply = try request(port, "GET", path, timeout: timeout)
        var data: [String] = []
        var end: String?
        for block in reply.text.components(separatedBy: "\n\n") {
            let lines = block.split(separator: "\n")
            if lines.contains("event: end") {
                end = lines.first { $0.hasPrefix("data: ") }.map { String($0.dropFirst(6)) }
            } else {
                data += lines.filter { $0.hasPrefix("data: ") }.map { String($0.dropFirst(6)) }
            }
        }
        return (data, end)
    }

    static func request(_ port: Int, _ method: String, _ path: String, headers: [String: String] = [:],
                        body: [UInt8] = [], timeout: Double = 10) throws -> Reply {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SpawnError("socket: \(errno)") }
        defer { close(fd) }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw SpawnError("connect to port \(port): errno \(errno)") }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\nContent-Length: \(body.count)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        let message = Array((head + "\r\n").utf8) + body
        var sent = 0
        while sent < message.count {
            let n = message[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw SpawnError("send: errno \(errno)") }
            sent += n
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            received += buffer[0..<n]
        }
        return try parse(received)
    }

    static func parse(_ bytes: [UInt8]) throws -> Reply {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard let split = (0...(max(0, bytes.count - 4))).first(where: { Array(bytes[$0..<min($0 + 4, bytes.count)]) == separator }) else {
            throw SpawnError("no HTTP response head in \(bytes.count) bytes")
        }
        let headLines = String(decoding: bytes[..<split], as: UTF8.self).components(separatedBy: "\r\n")
        let status = Int(headLines.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
        var headers: [String: String] = [:]
        for line in headLines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = Array(bytes[(split + 4)...])
        if headers["transfer-encoding"]?.lowercased() == "chunked" { body = dechunk(body) }
        return Reply(status: status, headers: headers, body: body)
    }

    static func dechunk(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            guard let lineEnd = (i..<(bytes.count - 1)).first(where: { bytes[$0] == 13 && bytes[$0 + 1] == 10 }) else { break }
            let size = Int(String(decoding: bytes[i..<lineEnd], as: UTF8.self).split(separator: ";").first ?? "", radix: 16) ?? 0
            if size == 0 { break }
            let start = lineEnd + 2
            out += bytes[start..<min(start + size, bytes.count)]
            i = start + size + 2
        }
        return out
    }
}

/// The Prometheus text exposition format (0.0.4), parsed strictly enough to
/// reject what a Prometheus server would: every sample line is
/// `name{label="value",…} number`, every name is declared by a `# TYPE` line
/// before its samples, names match `[a-zA-Z_:][a-zA-Z0-9_:]*`.
struct PrometheusText {
    struct Sample: Hashable {
        var name: String
        var labels: [String: String]
        var value: Double
    }
    var types: [String: String] = [:]
    var samples: [Sample] = []

    struct ParseError: Error, CustomStringConvertible { var description: String }

    init(_ text: String) throws {
        let namePattern = #/[a-zA-Z_:][a-zA-Z0-9_:]*/#
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.isEmpty { continue }
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                guard parts.count == 4, ["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[3]),
                      (try? namePattern.wholeMatch(in: parts[2])) != nil else {
                    throw ParseError(description: "line \(number + 1): bad TYPE line: \(line)")
                }
                types[String(parts[2])] = String(parts[3])
                continue
            }
            if line.hasPrefix("#") { continue }
            guard let match = try #/(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[^}]*)\})? (?<value>[^ ]+)( -?[0-9]+)?/#.wholeMatch(in: line) else {
                throw ParseError(description: "line \(number + 1): not a sample: \(line)")
            }
            let name = String(match.output.name)
            let family = ["_bucket", "_sum", "_count"].reduce(name) { $0.hasSuffix($1) && types[$0] == nil ? String($0.dropLast($1.count)) : $0 }
            guard types[name] != nil || types[family] != nil else {
                throw ParseError(description: "line \(number + 1): \(name) has no TYPE before it")
            }
            var labels: [String: String] = [:]
            if let text = match.output.labels, !text.isEmpty {
                for pair in text.matches(of: #/(?<key>[a-zA-Z_][a-zA-Z0-9_]*)="(?<value>(?:[^"\\]|\\.)*)",?/#) {
                    labels[String(pair.output.key)] = String(pair.output.value)
                }
                let rebuilt = labels.count
                guard rebuilt == text.split(separator: "=").count - 1 else {
                    throw ParseError(description: "line \(number + 1): bad labels: \(text)")
                }
            }
            let valueText = String(match.output.value)
            guard let value = Double(valueText) ?? ["+Inf": Double.infinity, "-Inf": -Double.infinity, "NaN": Double.nan][valueText] else {
                throw ParseError(description: "line \(number + 1): bad value: \(valueText)")
            }
            samples.append(Sample(name: name, labels: labels, value: value))
        }
    }

    /// The value of the one sample named `name` whose labels include `labels`.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { sample in sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value } }?.value
    }
}

/// Headless Chromium (Debian's `chromium`): the DOM once the page loaded, and a
/// screenshot. Not `--virtual-time-budget`: virtual time stands still while a
/// request is open, and a live run page keeps its event stream open (measured:
/// the dump then waits for the run to end).
enum Chromium {
    static var binary: String {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "chromium"
    }

    static func flags(_ profile: String) -> [String] {
        ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--user-data-dir=\(profile)", "--timeout=15000"]
    }

    static func dumpDOM(_ url: String, width: Int? = nil) throws -> String {
        let profile = try Spawn.makeTempDirectory(prefix: "chromium")
        defer { try? FileManager.default.removeItem(atPath: profile) }
        let size = width.map { ["--window-size=\($0),900"] } ?? []
        let result = try Spawn.run([binary] + flags(profile) + size + ["--dump-dom", url], timeout: 60)
        guard result.status == 0 else { throw SpawnError("chromium --dump-dom \(url) exited \(result.status): \(result.stderrText.suffix(2000))") }
        return result.stdoutText
    }

    /// Saves a PNG of `url` under test-artifacts/, `width` px wide, and returns its path.
    @discardableResult
    static func screenshot(_ url: String, name: String, width: Int = 1200, height: Int = 900) throws -> String {
        let directory = LabsyncBinary.packageRoot.appendingPathComponent("test-artifacts").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/\(name).png"
        try? FileManager.default.removeItem(atPath: path)
        let profile = try Spawn.makeTempDirectory(prefix: "chromium")
        defer { try? FileManager.default.removeItem(atPath: profile) }
        let result = try Spawn.run([binary] + flags(profile) + ["--window-size=\(width),\(height)", "--hide-scrollbars", "--screenshot=\(path)", url], timeout: 60)
        guard result.status == 0, FileManager.default.fileExists(atPath: path) else {
            throw SpawnError("chromium --screenshot \(url) exited \(result.status): \(result.stderrText.suffix(2000))")
        }
        return path
    }
}

func hmacHex(key: String, body: [UInt8]) throws -> String {
    let out = try Spawn.check(["openssl", "dgst", "-sha256", "-hmac", key, "-r"], stdin: body)
    return String(out.split(separator: " ").first ?? "")
}
