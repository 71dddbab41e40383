import Logging
import OTAIngest
import PostgresClient
import ServiceLifecycle
import Synchronization

/// Expands stored ARI messages into observations, after their answer: woken by each
/// stored message, and at start for whatever a stopped or killed `serve` left waiting.
/// Each message is its own transaction (`OpenTravelARIExpansion`), so a kill at any
/// point leaves it either expanded or waiting, never half done.
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
                    while !Task.isShuttingDownGracefully, try await OpenTravelARIExpansion.expandNext(on: connection!) {
                        expanded.add(1, ordering: .relaxed)
                    }
                } catch {
                    if let dead = connection { await dead.close() }
                    connection = nil
                    logger.error("opentravel ari: expansion failed; the messages wait and are tried again: \(error)")
                    Task { [signal] in
                        try? await Task.sleep(for: .seconds(1))
                        signal.yield()
                    }
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
