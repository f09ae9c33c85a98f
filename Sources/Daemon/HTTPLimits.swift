import Hummingbird
import HummingbirdCore
import NIOCore
import NIOHTTPTypes
import Foundation

/// Limits of the daemon's HTTP server, so that slow or many clients cannot
/// hold it: a client gets `headerTimeout` to send a request's headers (from
/// connecting, or from the end of the previous response), then `bodyTimeout`
/// for its body; beyond `maxConnections` open connections, new ones are closed
/// at once. A response being written (a log stream) is not timed here.
public struct HTTPLimits: Sendable {
    public var headerTimeout: Duration
    public var bodyTimeout: Duration
    public var maxConnections: Int

    /// 200 concurrent clients were measured fine; 512 leaves room for a
    /// dashboard and a webhook storm at once while bounding file descriptors.
    public init(headerTimeout: Duration = .seconds(10), bodyTimeout: Duration = .seconds(30), maxConnections: Int = 512) {
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
        self.maxConnections = maxConnections
    }

    /// An HTTP/1 server whose every connection is guarded by these limits.
    func server() -> HTTPServerBuilder {
        let counter = ConnectionCounter()
        return .http1(configuration: .init(additionalChannelHandlers: [HTTPGuard(limits: self, counter: counter)]))
    }
}

/// Open connections of one server.
final class ConnectionCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0  // guarded by lock

    /// Counts a new connection unless `limit` are already open.
    func admit(limit: Int) -> Bool {
        lock.withLock {
            guard count < limit else { return false }
            count += 1
            return true
        }
    }
    func release() { lock.withLock { count -= 1 } }
    var open: Int { lock.withLock { count } }
}

/// Sits after HTTP decoding: sees request heads, bodies and ends, and the
/// responses going out; closes the connection when a deadline passes.
final class HTTPGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let limits: HTTPLimits
    private let counter: ConnectionCounter
    private var started = false
    private var admitted = false
    private var deadline: Scheduled<Void>?

    init(limits: HTTPLimits, counter: ConnectionCounter) {
        self.limits = limits
        self.counter = counter
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    private func start(_ context: ChannelHandlerContext) {
        guard !started else { return }
        started = true
        admitted = counter.admit(limit: limits.maxConnections)
        guard admitted else {
            context.close(promise: nil)
            return
        }
        arm(context, limits.headerTimeout)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { finish() }

    private func finish() {
        deadline?.cancel()
        deadline = nil
        if admitted {
            admitted = false
            counter.release()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: arm(context, limits.bodyTimeout)
        case .body: break
        case .end: disarm()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // The response is complete: the next request's headers are due within headerTimeout.
        if case .end = unwrapOutboundIn(data) { arm(context, limits.headerTimeout) }
        context.write(data, promise: promise)
    }

    private func arm(_ context: ChannelHandlerContext, _ timeout: Duration) {
        disarm()
        let channel = context.channel
        let (seconds, attoseconds) = timeout.components
        let nanoseconds = seconds * 1_000_000_000 + attoseconds / 1_000_000_000
        deadline = context.eventLoop.scheduleTask(in: .nanoseconds(nanoseconds)) {
            channel.close(promise: nil)
        }
    }

    private func disarm() {
        deadline?.cancel()
        deadline = nil
    }
}
