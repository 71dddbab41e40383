import Foundation
import Hummingbird
import Logging
import NIOCore
import OTAIngest
import PostgresClient
import ServiceLifecycle
import Synchronization

/// `ota-ingest serve`: the webhook receiver. Lands what OTAs push in staging,
/// durably, before answering 200; answers PINGs at once and pulls in the background.
/// Continuous promotion (on unless `serve.promote = false`) brings whatever landed into
/// facts within `promote_interval_ms`, with the transform's own SQL; the answers never
/// wait for it.
///
/// The long-running process: everything it does runs as a service of one `ServiceGroup`
/// (committers, pipeline counts, continuous promotion, PING pulls when a WebHotelier source
/// is configured, the HTTP server), so SIGTERM reaches all of it; one run in ops.runs spans the group.
public final class ReceiverServer: Sendable {
    let settings: ReceiverSettings
    let databaseURL: String
    let queue = CommitQueue()
    let metrics = ReceiverMetrics()
    let counts = PipelineCounts()
    /// Read once: /readyz compares the shipped migrations with the database's.
    let migrator: Migrator
    let pings: PingScheduler
    let log: ReceiverLog
    let logger: Logger
    /// OpenTravel sources whose queues serve reads continuously.
    let openTravelPulls: [SourceConfig]
    let secrets: SecretResolver
    /// ARI pushes' connections and expander, made by each start.
    let ari = Mutex<OpenTravelARIParts?>(nil)
    private let state = Mutex<Running?>(nil)

    private struct Running: Sendable {
        var group: ServiceGroup
        /// Runs the group, then finishes the run: the one task `start()` leaves behind.
        var task: Task<Void, any Error>
        var port: Int
        var run: Run
    }

    /// Resolves every secret now, so a missing one is a configuration error (exit 2)
    /// before anything listens. Log lines go to stderr, or to `logLines` when given.
    public init(
        config: IngestConfig, databaseURL: String, secrets: SecretResolver = SecretResolver(),
        logFormat: RunLog.Format = .text, logLines: (@Sendable (String) -> Void)? = nil
    ) throws {
        let settings = try ReceiverSettings(config: config, secrets: secrets)
        migrator = try Migrator()
        self.settings = settings
        self.databaseURL = databaseURL
        self.secrets = secrets
        openTravelPulls = config.sources.filter {
            $0.kind == .opentravel && $0.openTravel.pull && $0.openTravel.serveService
        }
        // A missing account secret is a configuration error now, not a silent service later.
        for source in openTravelPulls { _ = try secrets.login(for: source) }
        log = ReceiverLog(format: logFormat, write: logLines)
        let logger = log.logger(label: "ota-ingest.serve")
        self.logger = logger
        let metrics = self.metrics
        pings = PingScheduler(metrics: metrics) { property in
            guard let source = settings.webhotelier else { return }
            let runner = PullRunner(
                databaseURL: databaseURL, config: IngestConfig(sources: [source]), sourceName: source.name,
                logFormat: logFormat, allowDeadLetters: true, forceNewRun: true, secrets: secrets)
            do {
                let outcome = try await runner.run(.pingReservations(property: property, gap: settings.pingGap))
                if outcome.status == .failure {
                    logger.error("PING pull failed: \(outcome.summary)", metadata: ["property": "\(property)"])
                }
            } catch {
                logger.error("PING pull failed: \(error)", metadata: ["property": "\(property)"])
            }
        }
    }

    /// A pull session per OpenTravel source whose queues `serve` reads (secrets resolved in `init`).
    private func openTravelSessions(run: Run) -> [OpenTravelPullSession] {
        openTravelPulls.compactMap { source in
            try? OpenTravelPullSession(
                databaseURL: databaseURL, source: source, secrets: secrets, run: run, log: log.run)
        }
    }

    /// Starts listening; returns the bound port once connections are accepted.
    @discardableResult
    public func start(handleSignals: Bool = false) async throws -> Int {
        if let port = state.withLock({ $0?.port }) { return port }
        guard
            let service = try await RunScope.begin(
                command: "serve \(settings.listen):\(settings.port)", databaseURL: databaseURL, forceNew: true)
        else {
            throw ConfigError(
                "another `ota-ingest serve` on \(settings.listen):\(settings.port) is running against this database; fix: stop it or use another port"
            )
        }
        let run = service.run
        log.started(runId: run.id)
        if settings.basic == nil {
            log.run.warning(
                "allow_unauthenticated = true: PUSH and PING are accepted without credentials, so anyone who reaches \(settings.listen):\(settings.port) can store bookings and trigger pulls; fix: set serve.basic_username and serve.basic_password_env unless this network is trusted"
            )
        }
        let (portStream, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: ReceiverRoutes(server: self, run: run).router(),
            configuration: .init(
                address: .hostname(settings.listen, port: settings.port), serverName: "ota-ingest"),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            },
            logger: log.logger(label: "ota-ingest.serve.http"))
        // Graceful shutdown stops services in reverse order, each after the one before has
        // returned: the HTTP server first (in-flight requests still get their commit), then
        // PING pulls, continuous promotion, pipeline counts, and the committers last.
        var services: [any Service] = [
            CommitterService(
                committer: Committer(
                    databaseURL: databaseURL, runId: run.id, maxBatch: settings.maxBatch, queue: queue,
                    metrics: metrics, logger: logger),
                connections: settings.commitConnections),
            PipelineCountsService(counts: counts, databaseURL: databaseURL, runId: run.id, logger: logger),
        ]
        if let interval = settings.promoteInterval {
            services.append(
                PromoterService(
                    databaseURL: databaseURL, runId: run.id, interval: interval, metrics: metrics, logger: logger))
        }
        if settings.webhotelier != nil { services.append(pings) }
        for session in openTravelSessions(run: run) {
            services.append(OpenTravelPullService(session: session, metrics: metrics, logger: logger))
        }
        let ari = OpenTravelARIParts(databaseURL: databaseURL, logger: logger)
        self.ari.withLock { $0 = ari }
        services.append(ari.expander)
        services.append(app)
        // The group's own reports of a failed start are left to the one line thrown below.
        let group = ServiceGroup(
            configuration: .init(
                services: services, gracefulShutdownSignals: handleSignals ? [.sigterm, .sigint] : [],
                logger: log.logger(label: "ota-ingest.serve.lifecycle", level: .critical)))
        let task = Task { [counts] in
            defer { portContinuation.finish() }
            let failure: (any Error)?
            do {
                try await group.run()
                failure = nil
            } catch {
                failure = error
            }
            await ari.pool.close()
            // Every service has stopped: the last counts, then the run, on the ledger's connection.
            try? await counts.flush(runId: run.id, on: service.ledger)
            await service.end(status: .succeeded)
            if let failure { throw failure }
        }
        var port = 0
        for await bound in portStream { port = bound }
        guard port > 0 else {
            let result = await task.result
            if case .failure(let error) = result { throw ListenError(settings: settings, cause: error) }
            throw ListenError(settings: settings, cause: nil)
        }
        log.run.info("listening on \(settings.listen):\(port)")
        state.withLock { $0 = Running(group: group, task: task, port: port, run: run) }
        return port
    }

    /// Runs until SIGTERM or SIGINT, then shuts down gracefully.
    public func run() async throws {
        try await start(handleSignals: true)
        try await waitUntilStopped()
    }

    /// Stops accepting, answers what is in flight (after its commit), lets running
    /// PING pulls finish, and returns. A restart loses nothing acknowledged.
    public func shutdown() async throws {
        guard let running = state.withLock({ $0 }) else { return }
        await running.group.triggerGracefulShutdown()
        try await waitUntilStopped()
    }

    private func waitUntilStopped() async throws {
        guard let running = state.withLock({ $0 }) else { return }
        let result = await running.task.result
        state.withLock { $0 = nil }
        if case .failure(let error) = result { throw error }
    }

    public var port: Int? { state.withLock { $0?.port } }

    /// Waits until no PING-driven pull runs or is due (for tests and orderly restarts).
    public func waitForPingPulls() async {
        while !pings.busy.isEmpty { try? await Task.sleep(for: .milliseconds(10)) }
    }

    /// Writes the pipeline-health counts now instead of at the next tick.
    public func flushPipelineCounts() async throws {
        guard let run = state.withLock({ $0?.run }) else { return }
        let connection = try await PostgresConnection.connect(databaseURL)
        do {
            try await counts.flush(runId: run.id, on: connection)
        } catch {
            await connection.close()
            throw error
        }
        await connection.close()
    }

    /// The Prometheus text of /metrics.
    public var metricsText: String { String(decoding: metrics.text, as: UTF8.self) }
}

/// The receiver could not listen: one line naming the address and the fix, never a
/// raw socket error. Exit status 2: nothing was received.
public struct ListenError: UserFacingError {
    var listen: String
    var port: Int
    var inUse: Bool
    var reason: String

    init(settings: ReceiverSettings, cause: (any Error)?) {
        listen = settings.listen
        port = settings.port
        let errno = (cause as? IOError)?.errnoCode
        inUse = errno == EADDRINUSE || "\(cause.map { "\($0)" } ?? "")".contains("Address already in use")
        reason =
            cause.map { ($0 as? IOError).map { String(cString: strerror($0.errnoCode)) } ?? "\($0)" } ?? "no socket"
    }

    public var exitStatus: ExitStatus { .usage }

    public var description: String {
        if inUse {
            return
                "serve: port \(port) on \(listen) is already in use by another process; fix: stop that process, or choose another port with --port or serve.port (--port 0 picks a free one)"
        }
        return "serve: cannot listen on \(listen):\(port): \(reason); fix: check serve.listen and serve.port"
    }
}
