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
/// Nothing is processed here: the transform promotes what it landed, exactly as
/// with pulled rows.
public final class ReceiverServer: Sendable {
    let settings: ReceiverSettings
    let databaseURL: String
    let queue = CommitQueue()
    let metrics = ReceiverMetrics()
    let counts = PipelineCounts()
    /// Read once: /readyz compares the shipped migrations with the database's.
    let migrator: Migrator
    let pings: PingScheduler
    let logger: Logger
    private let state = Mutex<Running?>(nil)

    private struct Running: Sendable {
        var group: ServiceGroup
        var task: Task<Void, any Error>
        var port: Int
        var run: Run
        var committers: Task<Void, Never>
        var flusher: Task<Void, Never>
    }

    /// Resolves every secret now, so a missing one is a configuration error (exit 2)
    /// before anything listens.
    public init(
        config: IngestConfig, databaseURL: String, secrets: SecretResolver = SecretResolver(),
        logFormat: RunLog.Format = .text
    ) throws {
        let settings = try ReceiverSettings(config: config, secrets: secrets)
        migrator = try Migrator()
        self.settings = settings
        self.databaseURL = databaseURL
        var log = Logger(label: "ota-ingest.serve")
        log.logLevel = .notice
        let logger = log
        self.logger = logger
        let metrics = self.metrics
        pings = PingScheduler(metrics: metrics) { property in
            guard let source = settings.webhotelier else { return }
            let runner = PullRunner(
                databaseURL: databaseURL, config: IngestConfig(sources: [source]), sourceName: source.name,
                logFormat: logFormat, allowDeadLetters: true, forceNewRun: true, secrets: secrets)
            do {
                let outcome = try await runner.run(.pingReservations(property: property, gap: settings.pingGap))
                if outcome.status == .failure { logger.error("PING pull of \(property) failed: \(outcome.summary)") }
            } catch {
                logger.error("PING pull of \(property) failed: \(error)")
            }
        }
    }

    /// Starts listening; returns the bound port once connections are accepted.
    @discardableResult
    public func start(handleSignals: Bool = false) async throws -> Int {
        if let port = state.withLock({ $0?.port }) { return port }
        let ledger = try await PostgresConnection.connect(databaseURL)
        let started = try await RunLedger.start(
            command: "serve \(settings.listen):\(settings.port)", on: ledger, forceNew: true)
        guard case .started(let run) = started else {
            await ledger.close()
            throw ConfigError(
                "another `ota-ingest serve` on \(settings.listen):\(settings.port) is running against this database; fix: stop it or use another port"
            )
        }
        let committers = Task { [queue, metrics, logger, databaseURL, settings] in
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<settings.commitConnections {
                    group.addTask {
                        await Committer(
                            databaseURL: databaseURL, runId: run.id, maxBatch: settings.maxBatch, queue: queue,
                            metrics: metrics, logger: logger
                        ).run()
                    }
                }
            }
            try? await counts.flush(runId: run.id, on: ledger)
            _ = try? await RunLedger.finish(run, status: "succeeded", counts: [:], error: nil, on: ledger)
            await ledger.close()
        }
        // Pipeline-health counts every few seconds on a connection of their own.
        let flusher = Task { [counts, databaseURL, logger] in
            var connection: PostgresConnection?
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(5))
                do {
                    if connection == nil { connection = try await PostgresConnection.connect(databaseURL) }
                    try await counts.flush(runId: run.id, on: connection!)
                } catch {
                    logger.warning("pipeline counts not written yet: \(error)")
                    if let dead = connection { await dead.close() }
                    connection = nil
                }
            }
            if let connection { await connection.close() }
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
            logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                services: [app], gracefulShutdownSignals: handleSignals ? [.sigterm, .sigint] : [], logger: logger))
        let task = Task {
            defer { portContinuation.finish() }
            try await group.run()
        }
        var port = 0
        for await bound in portStream { port = bound }
        guard port > 0 else {
            flusher.cancel()
            await queue.close()
            _ = await committers.value
            if case .failure(let error) = await task.result { throw error }
            throw ConfigError("serve: could not listen on \(settings.listen):\(settings.port); fix: pick a free port")
        }
        state.withLock {
            $0 = Running(group: group, task: task, port: port, run: run, committers: committers, flusher: flusher)
        }
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
        running.flusher.cancel()
        await running.flusher.value
        await queue.close()
        await running.committers.value
        await pings.drain()
        state.withLock { $0 = nil }
        if case .failure(let error) = result { throw error }
    }

    public var port: Int? { state.withLock { $0?.port } }

    /// Waits until no PING-driven pull runs or is due (for tests and orderly restarts).
    public func waitForPingPulls() async {
        while !(await pings.busy.isEmpty) { try? await Task.sleep(for: .milliseconds(10)) }
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
