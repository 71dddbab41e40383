import Logging
import OTAIngest
import PostgresClient
import ServiceLifecycle
import Synchronization

/// Expands stored ARI messages into observations, after their answer: woken by each
/// stored message, and at start for whatever a stopped or killed `serve` left waiting.
/// Each batch of messages is one transaction (`OpenTravelARIExpansion`), so a kill at any
/// point leaves its messages either expanded or waiting, never half done.
final class OpenTravelARIExpander: Service, Sendable {
    private let databaseURL: String
    private let logger: Logger
    private let signal: AsyncStream<Void>.Continuation
    private let signals: Mutex<AsyncStream<Void>?>
    /// Messages expanded since start (tests wait on the database, not on this).
    let expanded = Atomic<Int>(0)

    init(databaseURL: String, logger: Logger) {
        self.databaseURL = databaseURL
        self.logger = logger
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        signal = continuation
        signals = Mutex(stream)
        continuation.yield()
    }

    /// Something was stored: expand it soon.
    func wake() { signal.yield() }

    private func again(after delay: Duration) {
        Task { [signal] in
            try? await Task.sleep(for: delay)
            signal.yield()
        }
    }

    func run() async {
        guard
            let stream = signals.withLock({ s -> AsyncStream<Void>? in
                defer { s = nil }; return s
            })
        else { return }
        var connection: PostgresConnection?
        await withGracefulShutdownHandler {
            for await _ in stream {
                do {
                    if connection == nil { connection = try await PostgresConnection.connect(databaseURL) }
                    while !Task.isShuttingDownGracefully,
                        case let batch = try await OpenTravelARIExpansion.expandNext(on: connection!), batch > 0
                    {
                        expanded.add(batch, ordering: .relaxed)
                    }
                    // Messages still waiting are held by another session (often a killed serve's
                    // that the server has not yet ended): look again shortly, not only at the next push.
                    if !Task.isShuttingDownGracefully, try await OpenTravelARIExpansion.anyWaiting(on: connection!) {
                        again(after: .milliseconds(200))
                    }
                } catch {
                    if let dead = connection { await dead.close() }
                    connection = nil
                    // serve is stopping (e.g. its port was taken): the messages wait for the next start.
                    if Task.isCancelled || error is CancellationError { break }
                    logger.error("opentravel ari: expansion failed; the messages wait and are tried again: \(error)")
                    again(after: .seconds(1))
                }
            }
        } onGracefulShutdown: { [signal] in
            signal.finish()
        }
        if let connection { await connection.close() }
    }
}

/// What ARI pushes need while `serve` runs: connections for storing, and the expander.
/// New for each start, so a stopped server starts again clean.
struct OpenTravelARIParts: Sendable {
    let pool: PostgresPool
    let expander: OpenTravelARIExpander

    init(databaseURL: String, logger: Logger) {
        pool = PostgresPool(databaseURL, maxConnections: 2, applicationName: "ota-ingest serve ari")
        expander = OpenTravelARIExpander(databaseURL: databaseURL, logger: logger)
    }
}

extension ReceiverServer {
    var ariStore: PostgresPool { ari.withLock { $0! }.pool }
    var ariExpander: OpenTravelARIExpander { ari.withLock { $0! }.expander }

    /// Waits until every stored ARI message is expanded (for tests and orderly checks).
    public func waitForARIExpansion() async throws {
        let connection = try await PostgresConnection.connect(databaseURL)
        do {
            while try await !connection.query("select 1 from staging.ari_messages where expanded_at is null limit 1")
                .isEmpty
            {
                try await Task.sleep(for: .milliseconds(20))
            }
        } catch {
            await connection.close()
            throw error
        }
        await connection.close()
    }
}
