import Foundation
import Hummingbird
import Journal
import Logging
import Reconciler

/// The daemon's HTTP interface: probes, metrics, the JSON API, the webhook, and
/// the server-rendered pages.
struct DaemonRoutes: Sendable {
    let controller: DaemonController
    let journal: Journal
    let metrics: DaemonMetrics
    let webhook: WebhookVerifier
    let logger: Logger

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/readyz") { _, _ -> Response in
            await controller.isReady
                ? Self.text("ready\n")
                : Self.text("not ready: the first reconcile has not finished\n", status: .serviceUnavailable)
        }
        router.get("/metrics") { _, _ -> Response in
            Self.text(metrics.exposition(), contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
        router.get("/api/status") { _, _ -> Response in
            Self.json(await controller.currentStatus())
        }
        router.get("/api/runs") { request, _ -> Response in
            let limit = request.uri.queryParameters.get("limit", as: Int.self) ?? 50
            let host: String? = request.uri.queryParameters.get("host")
            return Self.json(try journal.runs(limit: min(limit, 1000), host: host).map(APIRun.init))
        }
        router.get("/api/runs/{id}") { _, context -> Response in
            let id = try context.parameters.require("id", as: Int64.self)
            guard let run = try? journal.run(id) else { return Self.text("no run \(id)\n", status: .notFound) }
            return Self.json(APIRunDetail(run: APIRun(run), steps: try journal.steps(run: id)))
        }
        router.get("/api/runs/{id}/log") { request, context -> Response in
            let id = try context.parameters.require("id", as: Int64.self)
            guard (try? journal.run(id)) != nil else { return Self.text("no run \(id)\n", status: .notFound) }
            let after = Self.header(request, "Last-Event-ID").flatMap { Int64($0) }
                ?? request.uri.queryParameters.get("after", as: Int64.self) ?? 0
            if request.uri.queryParameters.get("format") == "text" {
                let lines = try journal.lines(run: id, after: after, limit: 1_000_000)
                return Self.text(lines.map { "\(($0.host ?? "labsync")) \($0.stream == .output ? "│" : "-") \($0.text)" }
                    .joined(separator: "\n") + "\n")
            }
            return Self.eventStream(run: id, after: after, journal: journal)
        }
        router.post("/hooks/git") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 25 << 20)
            let bytes = Array(body.readableBytesView)
            let verdict = webhook.verify(body: bytes) { Self.header(request, $0) }
            switch verdict {
            case .accepted(let provider):
                logger.info("webhook from \(provider): reconciling now")
                controller.trigger(.webhook)
                return Self.text("accepted\n", status: .accepted)
            case .disabled:
                return Self.text("the webhook is off: start the daemon with a webhook secret\n", status: .forbidden)
            case .missingSignature:
                return Self.text("no X-Hub-Signature-256 or X-Gitlab-Token header\n", status: .unauthorized)
            case .badSignature:
                logger.warning("webhook with a wrong signature refused")
                return Self.text("wrong signature\n", status: .unauthorized)
            }
        }
        router.get("/") { _, _ -> Response in
            let status = await controller.currentStatus()
            let runs = (try? journal.runs(limit: 50)) ?? []
            return Self.html(Pages.status(status, runs: runs, context: Pages.Context(commitURL: controller.configuration.commitURLPattern)))
        }
        router.get("/runs/{id}") { _, context -> Response in
            let id = try context.parameters.require("id", as: Int64.self)
            guard let run = try? journal.run(id) else { return Self.html(Pages.notFound("No run \(id)."), status: .notFound) }
            return Self.html(Pages.run(run, steps: (try? journal.steps(run: id)) ?? [],
                                       lines: (try? journal.lines(run: id, limit: 1_000_000)) ?? [],
                                       context: Pages.Context(commitURL: controller.configuration.commitURLPattern)))
        }
        return router
    }

    /// A request header by name, case-insensitively.
    static func header(_ request: Request, _ name: String) -> String? {
        request.headers.first { $0.name.canonicalName == name.lowercased() }?.value
    }

    // MARK: Responses

    static func text(_ text: String, status: HTTPResponse.Status = .ok, contentType: String = "text/plain; charset=utf-8") -> Response {
        Response(status: status, headers: [.contentType: contentType], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func html(_ html: String, status: HTTPResponse.Status = .ok) -> Response {
        text(html, status: status, contentType: "text/html; charset=utf-8")
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    static func json(_ value: some Encodable) -> Response {
        let data = (try? encoder.encode(value)) ?? Data("null".utf8)
        return Response(status: .ok, headers: [.contentType: "application/json"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static let streamLimit: Duration = .seconds(3600)

    /// Server-Sent Events: the run's lines so far, then new ones as they are
    /// written (the journal is polled), then `event: end` when the run ends.
    static func eventStream(run: Int64, after: Int64, journal: Journal) -> Response {
        let body = ResponseBody { writer in
            var last = after
            let lineEncoder = JSONEncoder()
            lineEncoder.dateEncodingStrategy = .iso8601
            // Bounded in time: after an hour the stream ends and the client
            // reconnects with Last-Event-ID (EventSource does so by itself).
            let end = ContinuousClock.now + streamLimit
            while ContinuousClock.now < end {
                let lines = try journal.lines(run: run, after: last, limit: 500)
                if !lines.isEmpty {
                    var chunk = ""
                    for line in lines {
                        let data = String(decoding: try lineEncoder.encode(APILine(line)), as: UTF8.self)
                        chunk += "id: \(line.id)\ndata: \(data)\n\n"
                    }
                    try await writer.write(ByteBuffer(string: chunk))
                    last = lines.last!.id
                    if lines.count == 500 { continue }
                }
                let record = try journal.run(run)
                if record.result != .running {
                    // Lines written between the read above and the run's end.
                    if try journal.lines(run: run, after: last, limit: 1).isEmpty {
                        try await writer.write(ByteBuffer(string: "event: end\ndata: \(record.result.rawValue)\n\n"))
                        break
                    }
                    continue
                }
                // A comment keeps proxies from timing the stream out.
                try await writer.write(ByteBuffer(string: ": waiting\n\n"))
                try await Task.sleep(for: .milliseconds(300))
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }
}

/// A run as the API shows it: the journal's listing plus the plan.
struct APIRun: Encodable {
    var listing: JournalRun.Listing
    var plan: JSONValue?

    init(_ run: JournalRun) {
        listing = JournalRun.Listing(run)
        plan = run.planJSON.flatMap { try? JSONDecoder().decode(JSONValue.self, from: Data($0.utf8)) }
    }

    private enum CodingKeys: String, CodingKey { case plan }

    /// Flat: the listing's fields and `plan` side by side in one object.
    func encode(to encoder: any Encoder) throws {
        try listing.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(plan, forKey: .plan)
    }
}

struct APIRunDetail: Encodable {
    var run: APIRun
    var steps: [JournalStep]
}

struct APILine: Codable {
    var id: Int64
    var step: Int64?
    var host: String?
    var stream: String
    var at: Date
    var text: String
    init(_ line: JournalLine) {
        id = line.id
        step = line.step
        host = line.host
        stream = line.stream.rawValue
        at = line.at
        text = line.text
    }
}

/// Any JSON, passed through (the stored plan, embedded as an object rather than a string).
enum JSONValue: Codable {
    case null, bool(Bool), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null } else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let n): if n == n.rounded(), abs(n) < 1e15 { try c.encode(Int64(n)) } else { try c.encode(n) }
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }
}
