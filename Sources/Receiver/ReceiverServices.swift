import Logging
import OTAIngest
import PostgresClient
import ServiceLifecycle

/// The committers, as a service of serve's group: `commit_connections` connections that
/// take batches from the queue until it closes. The queue closes at graceful shutdown,
/// which reaches this service after the HTTP server's (services stop in reverse order),
/// so every request in flight has had its commit and its answer.
struct CommitterService: Service {
    /// What each committer is; `connections` of them run side by side.
    let committer: Committer
    let connections: Int

    func run() async {
        await withDiscardingTaskGroup { group in
            for _ in 0..<connections {
                group.addTask { await committer.run() }
            }
            // Cancelled instead (the server failed to start): nothing is queued; close all the same.
            try? await gracefulShutdown()
            await committer.queue.close()
        }
    }
}

/// Writes the pipeline-health counts every few seconds on a connection of its own, until
/// graceful shutdown (the last counts are written when the run finishes).
struct PipelineCountsService: Service {
    let counts: PipelineCounts
    let databaseURL: String
    let runId: String
    let logger: Logger
    var interval: Duration = .seconds(5)

    func run() async {
        var connection: PostgresConnection?
        while !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { [interval] in try await Task.sleep(for: interval) }
            } catch {
                break
            }
            do {
                if connection == nil { connection = try await PostgresConnection.connect(databaseURL) }
                try await counts.flush(runId: runId, on: connection!)
            } catch is CancellationError {
                break
            } catch {
                logger.warning("pipeline counts not written yet: \(error)")
                if let dead = connection { await dead.close() }
                connection = nil
            }
        }
        if let connection { await connection.close() }
    }
}
