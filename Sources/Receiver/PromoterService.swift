import Logging
import OTAIngest
import ServiceLifecycle

/// Continuous promotion as a service of serve's group: a micro-batch every `interval` while
/// something lands (see `ContinuousPromoter`), until graceful shutdown, which lets the batch
/// under way commit first. The HTTP server never waits for it: a push is answered once
/// staged, whatever promotion is doing.
struct PromoterService: Service {
    let databaseURL: String
    let runId: String
    let interval: Duration
    let metrics: ReceiverMetrics
    let logger: Logger

    func run() async {
        let promoter: ContinuousPromoter
        do {
            promoter = try ContinuousPromoter(databaseURL: databaseURL, runID: runId + "-promote")
        } catch {
            logger.error("continuous promotion cannot start: \(error)")
            return
        }
        if let rows = await promoter.rowsSetAside() { metrics.setAsideNow(rows) }
        var unavailableStreak = 0
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let started = ContinuousClock.now
            var pause = interval
            // A step waiting for the lock behind a long transform must not hold up SIGTERM:
            // cancelled, its transaction rolls back and the next start takes the rows again.
            switch await cancelWhenGracefulShutdown({ await promoter.step() }) {
            case .idle:
                break
            case .promoted(let batch):
                unavailableStreak = 0
                metrics.promoted(batch)
                if batch.retriedSetAside, let rows = await promoter.rowsSetAside() { metrics.setAsideNow(rows) }
                for check in batch.failedChecks {
                    logger.error(
                        "continuous promotion: check \(check.name) found \(check.failures) rows, e.g. \(check.sample)")
                }
            case .overtaken:
                pause = .zero
            case .failed(let error, let attempt):
                metrics.promotionFailed()
                logger.warning(
                    "continuous promotion: micro-batch failed (attempt \(attempt) of \(ContinuousPromoter.attemptsBeforeSettingAside)); trying the same rows again: \(error)"
                )
            case .setAside(let rows, let error):
                metrics.promotionFailed()
                metrics.setAside(rows: rows)
                if let open = await promoter.rowsSetAside() { metrics.setAsideNow(open) }
                logger.error(
                    "continuous promotion: \(rows) staged rows failed \(ContinuousPromoter.attemptsBeforeSettingAside) times and were set aside (ops.promotion_set_aside); everything landed after them keeps flowing, and they are tried again after the next transform that succeeds: \(error)"
                )
            case .unavailable(let error):
                // Cancelled by the shutdown itself (or by the group, when the server could not
                // start): nothing to report.
                if Task.isShuttingDownGracefully || Task.isCancelled { break }
                unavailableStreak += 1
                // Once per outage, not every tick; back off to a few seconds while it lasts.
                if unavailableStreak == 1 { logger.warning("continuous promotion waits for the database: \(error)") }
                pause = min(interval * (1 << min(unavailableStreak, 4)), .seconds(5))
            }
            let next = started + pause
            guard next > .now else { continue }
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(until: next) }
            } catch {
                break
            }
        }
        await promoter.close()
    }
}
