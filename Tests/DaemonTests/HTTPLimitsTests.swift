// The daemon's HTTP limits against real clients on loopback: a client that
// trickles its headers or its body is disconnected; past the connection cap,
// new connections are closed while the others are still served.

import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import LabsyncTestSupport
import Testing
@testable import Daemon
#if canImport(Glibc)
import Glibc
#endif

@Suite(.integration, .serialized) struct HTTPLimitsTests {
    /// Runs a server with `limits` (a trivial router) for the duration of `body`.
    func withServer(_ limits: HTTPLimits, _ body: (Int) async throws -> Void) async throws {
        let router = Router()
        router.get("/healthz") { _, _ in "ok\n" }
        router.post("/echo") { request, _ -> String in
            let buffer = try await request.body.collect(upTo: 1 << 20)
            return String(buffer: buffer)
        }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router, server: limits.server(),
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) })
        // Stopped by a graceful shutdown, never by cancelling: NIO traps when a
        // cancelled server drops connections it has accepted but not served.
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [app], logger: Logger(label: "http-limits-test")))
        let task = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        let port = await iterator.next() ?? 0
        var failure: (any Error)?
        do {
            try #require(port > 0)
            try await body(port)
        } catch {
            failure = error
        }
        await group.triggerGracefulShutdown()
        _ = await task.result
        if let failure { throw failure }
    }

    @Test func slowHeadersAreDisconnected() async throws {
        try await withServer(HTTPLimits(headerTimeout: .milliseconds(500), bodyTimeout: .seconds(30), maxConnections: 10)) { port in
            let client = try Client(port: port)
            defer { client.close() }
            client.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            let start = ContinuousClock.now
            // One byte every 100 ms: never idle, never done. Bounded: at most 50 bytes.
            var closed = false
            for _ in 0..<100 where !closed {
                client.send("a")
                closed = await client.closed(within: .milliseconds(100))
            }
            let elapsed = ContinuousClock.now - start
            #expect(closed, "a client trickling headers for 10 s was not disconnected")
            #expect(elapsed >= .milliseconds(400) && elapsed < .seconds(5), "\(elapsed)")
        }
    }

    @Test func slowBodiesAreDisconnectedCompleteOnesServed() async throws {
        try await withServer(HTTPLimits(headerTimeout: .seconds(5), bodyTimeout: .milliseconds(500), maxConnections: 10)) { port in
            let fast = try Client(port: port)
            defer { fast.close() }
            fast.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
            #expect(await fast.read(within: .seconds(10)).hasSuffix("hello"))
            // Keep-alive: the next request on the same connection is served too.
            fast.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(await fast.read(within: .seconds(10)).hasPrefix("HTTP/1.1 200"))

            let slow = try Client(port: port)
            defer { slow.close() }
            slow.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789")
            let start = ContinuousClock.now
            var closed = false
            for _ in 0..<100 where !closed {
                slow.send("b")
                closed = await slow.closed(within: .milliseconds(100))
            }
            #expect(closed, "a client trickling its body for 10 s was not disconnected")
            #expect(ContinuousClock.now - start < .seconds(5))
        }
    }

    @Test func connectionCapHolds() async throws {
        try await withServer(HTTPLimits(headerTimeout: .seconds(10), bodyTimeout: .seconds(10), maxConnections: 3)) { port in
            let held = try (0..<3).map { _ in try Client(port: port) }
            defer { held.forEach { $0.close() } }
            for client in held {
                let closed = await client.closed(within: .milliseconds(200))
                #expect(!closed, "a connection under the cap was closed")
            }

            let refused = try Client(port: port)
            defer { refused.close() }
            #expect(await refused.closed(within: .seconds(5)), "a fourth connection was kept open past the cap of 3")
            // The three under the cap are still served.
            held[0].send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(await held[0].read(within: .seconds(10)).hasPrefix("HTTP/1.1 200"))

            // Closing one frees a place.
            held[1].close()
            var served = false
            for _ in 0..<20 where !served {  // bounded: the server notices the close within a few ms
                let next = try Client(port: port)
                defer { next.close() }
                next.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                served = await next.read(within: .seconds(1)).hasPrefix("HTTP/1.1 200")
            }
            #expect(served, "no connection was accepted after one of the three closed")
        }
    }
}

/// A blocking TCP client on loopback, with timed reads.
private final class Client {
    private var fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard status == 0 else { throw POSIXError(.ECONNREFUSED) }
    }

    func send(_ text: String) {
        _ = Array(text.utf8).withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// True when the server closed the connection (EOF or reset) within `timeout`;
    /// data that arrives meanwhile is read and dropped. Polls without blocking:
    /// the server's handlers need the same cooperative threads as this test.
    func closed(within timeout: Duration) async -> Bool {
        let end = ContinuousClock.now + timeout
        while ContinuousClock.now < end {
            if let n = receive(), n <= 0 { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return false
    }

    /// What arrives within `timeout` (until the server pauses after sending, or closes).
    func read(within timeout: Duration) async -> String {
        var received: [UInt8] = []
        var quiet = 0
        let end = ContinuousClock.now + timeout
        while ContinuousClock.now < end, quiet < 5 {
            var buffer = [UInt8](repeating: 0, count: 4096)
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&poller, 1, 0) > 0 {
                let n = recv(fd, &buffer, buffer.count, 0)
                if n <= 0 { break }
                received += buffer[0..<n]
                quiet = 0
            } else if !received.isEmpty {
                quiet += 1
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return String(decoding: received, as: UTF8.self)
    }

    /// nil when nothing is waiting; else recv's result (0: closed, < 0: reset).
    private func receive() -> Int? {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, 0) > 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        return recv(fd, &buffer, buffer.count, 0)
    }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }
}
