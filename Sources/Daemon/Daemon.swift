import Foundation
import Hummingbird
import Journal
import Logging
import Reconciler
import ServiceLifecycle

/// `labsync daemon`: the controller and the HTTP server in one service group.
/// SIGTERM or SIGINT shuts down gracefully: the controller first (it stops
/// taking work and lets a running apply finish, within `shutdownTimeout`), then
/// the HTTP server — so the status page stays up while a run drains.
public enum LabsyncDaemon {
    public static let logLevels = Logger.Level.allCases.map(\.rawValue)

    /// Runs until SIGTERM or SIGINT; logs go to standard error (the journal of systemd).
    public static func run(_ configuration: DaemonConfiguration, logLevel: String = "info") async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        try await run(configuration, logger: Logger(label: "labsync.daemon"))
    }

    public static func run(_ configuration: DaemonConfiguration, logger: Logger) async throws {
        let journal = try Journal(stateDirectory: configuration.stateDirectory,
                                  secrets: configuration.webhookSecret.map { [$0] } ?? [])
        let metrics = DaemonMetrics()
        let controller = DaemonController(configuration: configuration, journal: journal, metrics: metrics, logger: logger)
        let routes = DaemonRoutes(controller: controller, journal: journal, metrics: metrics,
                                  webhook: WebhookVerifier(secret: configuration.webhookSecret), logger: logger)
        let app = Application(
            router: routes.router(),
            server: configuration.httpLimits.server(),
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.listenHost, port: configuration.listenPort), serverName: "labsync"),
            onServerRunning: { channel in
                logger.info("listening on http://\(channel.localAddress?.description ?? "\(configuration.listenHost):\(configuration.listenPort)")")
            },
            logger: logger)
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [.init(service: app), .init(service: controller)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        if let note = configuration.refNote { logger.notice("\(note)") }
        logger.info("watching \(configuration.repo)\(configuration.ref.map { " at \($0)" } ?? "") every \(configuration.interval)")
        try await group.run()
    }
}
