import Logging
import OTAIngest
import ServiceLifecycle

/// Reads an OpenTravel source's queues for as long as `serve` runs, at the dialect's
/// cadence: a read every `poll_ms` (20 s), `after_ack_ms` (5 s) after an acknowledgement.
/// A failed cycle is logged and tried again at the next tick; graceful shutdown lets the
/// cycle in progress finish (its commit and acknowledgement), then stops.
struct OpenTravelPullService: Service {
    let session: OpenTravelPullSession
    let metrics: ReceiverMetrics
    let logger: Logger

    func run() async {
        let settings = session.source.openTravel
        let name = session.source.name
        while !Task.isShuttingDownGracefully {
            var wait = settings.pollInterval
            do {
                if let (_, acknowledged) = try await session.cycle() {
                    if acknowledged > 0 { wait = settings.afterAckInterval }
                } else {
                    logger.info("opentravel \(name): the account's queues are being read by another process; waiting")
                }
            } catch {
                logger.error("opentravel \(name): reading the queues failed: \(error); trying again")
            }
            // After a failed cycle too: acknowledgements that keep failing are what makes reservations wait.
            do {
                let late = try await session.late()
                metrics.openTravelWaiting(source: name, late.count)
                if let oldest = late.first {
                    logger.warning(
                        "opentravel \(name): \(late.count) reservations unacknowledged for \(oldest.minutes)+ minutes (the OTA emails them to the property at \(Int(settings.fallback.components.seconds / 60))); see ota-ingest status"
                    )
                }
            } catch {
                logger.error("opentravel \(name): could not read the waiting list: \(error)")
            }
            do {
                try await cancelWhenGracefulShutdown { [wait] in try await Task.sleep(for: wait) }
            } catch {
                break
            }
        }
        await session.close()
    }
}
