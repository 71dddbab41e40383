import Metrics
import OTAIngest
import Prometheus
import Synchronization

/// The receiver's figures for `/metrics`: swift-metrics instruments on a Prometheus
/// registry of this receiver's own (tests run several receivers in one process, and
/// the global MetricsSystem can be bootstrapped only once).
final class ReceiverMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    private let commitLatency: Metrics.Timer
    private let batchSize: Metrics.Recorder
    let inFlight: Metrics.Meter
    let pingPullsRun: Metrics.Counter
    let pingsCoalesced: Metrics.Counter
    private let eventLag: Metrics.Timer
    private let answeredToFact: Metrics.Timer
    private let eventToFact: Metrics.Timer
    private let promotionVersions: Metrics.Recorder
    private let promotionDuration: Metrics.Timer
    private let promotionLockWait: Metrics.Timer
    private let promotionFailures: Metrics.Counter
    private let rowsSetAsideTotal: Metrics.Counter
    private let rowsSetAside: Metrics.Gauge
    private let requestCounters = Mutex<[String: Metrics.Counter]>([:])
    private let waitingGauges = Mutex<[String: Metrics.Gauge]>([:])

    init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(20),
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(1000), .seconds(5),
        ]
        factory.valueHistogramBuckets["ota_receiver_commit_batch_size"] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
        factory.durationHistogramBuckets["ota_receiver_event_lag_seconds"] = [
            .seconds(1), .seconds(10), .seconds(60), .seconds(600), .seconds(3600), .seconds(86400),
        ]
        factory.valueHistogramBuckets["ota_promoter_batch_versions"] = [
            1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 100_000,
        ]
        let freshness: [Duration] = [
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .milliseconds(750),
            .seconds(1), .milliseconds(1500), .seconds(2), .seconds(3), .seconds(5), .seconds(10), .seconds(30),
            .seconds(60), .seconds(300), .seconds(3600),
        ]
        factory.durationHistogramBuckets["ota_facts_answered_to_fact_seconds"] = freshness
        factory.durationHistogramBuckets["ota_promoter_lock_wait_seconds"] = freshness
        factory.durationHistogramBuckets["ota_promoter_batch_duration_seconds"] = freshness
        factory.durationHistogramBuckets["ota_facts_event_to_fact_seconds"] = [
            .seconds(1), .seconds(2), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(600),
            .seconds(3600), .seconds(86400),
        ]
        self.factory = factory
        answeredToFact = Metrics.Timer(label: "ota_facts_answered_to_fact_seconds", factory: factory)
        eventToFact = Metrics.Timer(label: "ota_facts_event_to_fact_seconds", factory: factory)
        promotionVersions = Metrics.Recorder(label: "ota_promoter_batch_versions", aggregate: true, factory: factory)
        promotionDuration = Metrics.Timer(label: "ota_promoter_batch_duration_seconds", factory: factory)
        promotionLockWait = Metrics.Timer(label: "ota_promoter_lock_wait_seconds", factory: factory)
        promotionFailures = Metrics.Counter(label: "ota_promoter_failures_total", factory: factory)
        rowsSetAsideTotal = Metrics.Counter(label: "ota_promoter_set_aside_rows_total", factory: factory)
        rowsSetAside = Metrics.Gauge(label: "ota_promoter_set_aside_rows", factory: factory)
        commitLatency = Metrics.Timer(label: "ota_receiver_commit_latency_seconds", factory: factory)
        batchSize = Metrics.Recorder(label: "ota_receiver_commit_batch_size", aggregate: true, factory: factory)
        inFlight = Metrics.Meter(label: "ota_receiver_in_flight_requests", factory: factory)
        pingPullsRun = Metrics.Counter(label: "ota_receiver_ping_pulls_total", factory: factory)
        pingsCoalesced = Metrics.Counter(label: "ota_receiver_pings_coalesced_total", factory: factory)
        eventLag = Metrics.Timer(label: "ota_receiver_event_lag_seconds", factory: factory)
    }

    /// One request answered: by endpoint and outcome (stored, duplicate, collision,
    /// unauthorized, bad_signature, invalid, too_large, unsupported_type, unknown_property, unavailable, ...).
    func request(_ endpoint: String, _ outcome: String) {
        // One counter per (endpoint, outcome), made once: this runs on every request.
        let counter = requestCounters.withLock { counters in
            let key = endpoint + "|" + outcome
            if let counter = counters[key] { return counter }
            let counter = Metrics.Counter(
                label: "ota_receiver_requests_total", dimensions: [("endpoint", endpoint), ("outcome", outcome)],
                factory: factory)
            counters[key] = counter
            return counter
        }
        counter.increment()
    }

    /// OpenTravel reservations of `source` unacknowledged past the source's warning age.
    func openTravelWaiting(source: String, _ count: Int) {
        let gauge = waitingGauges.withLock { gauges in
            if let gauge = gauges[source] { return gauge }
            let gauge = Metrics.Gauge(
                label: "ota_opentravel_waiting_reservations", dimensions: [("source", source)], factory: factory)
            gauges[source] = gauge
            return gauge
        }
        gauge.record(count)
    }

    func committed(batch: Int, latency: Duration) {
        batchSize.record(batch)
        commitLatency.recordNanoseconds(latency.nanoseconds)
    }

    /// From the OTA's event time to our commit.
    func lag(_ duration: Duration) {
        if duration > .zero { eventLag.recordNanoseconds(duration.nanoseconds) }
    }

    /// A micro-batch of continuous promotion committed.
    func promoted(_ batch: ContinuousPromoter.Batch) {
        promotionVersions.record(batch.versions)
        promotionDuration.recordNanoseconds(Int64(batch.seconds * 1e9))
        promotionLockWait.recordNanoseconds(Int64(max(0, batch.lockWaitSeconds) * 1e9))
        for seconds in batch.answeredToFact { answeredToFact.recordNanoseconds(Int64(max(0, seconds) * 1e9)) }
        for seconds in batch.eventToFact where seconds > 0 { eventToFact.recordNanoseconds(Int64(seconds * 1e9)) }
    }

    func promotionFailed() { promotionFailures.increment() }

    func setAside(rows: Int) { rowsSetAsideTotal.increment(by: rows) }

    /// Rows set aside and not promoted since, as ops.promotion_set_aside says.
    func setAsideNow(_ rows: Int) { rowsSetAside.record(rows) }

    /// The Prometheus text, with a HELP line before every metric's TYPE line.
    var text: [UInt8] {
        var lines: [String] = []
        for line in String(decoding: registry.emitToBuffer(), as: UTF8.self).split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                let name = line.dropFirst(7).split(separator: " ").first.map(String.init) ?? ""
                lines.append("# HELP \(name) \(Self.help[name] ?? "See the receiver documentation.")")
            }
            lines.append(String(line))
        }
        return Array((lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n")).utf8)
    }

    /// What each metric means, for whoever reads /metrics or builds a dashboard from it.
    static let help: [String: String] = [
        "ota_receiver_requests_total":
            "Requests answered, by endpoint and outcome (stored, duplicate, collision, unauthorized, unknown_property, invalid, ...).",
        "ota_receiver_commit_latency_seconds": "Time to commit one group of received requests (synchronous_commit on).",
        "ota_receiver_commit_batch_size": "Requests stored by one group commit.",
        "ota_receiver_in_flight_requests": "Requests being received or stored right now.",
        "ota_receiver_ping_pulls_total": "Pending-list pulls run because of a PING.",
        "ota_receiver_pings_coalesced_total":
            "PINGs that arrived while their property's pull ran, folded into one more pull.",
        "ota_receiver_event_lag_seconds": "From the OTA's event time to the receiver's commit.",
        "ota_facts_answered_to_fact_seconds":
            "Continuous promotion: from a booking's or observation's landing (its push answered) to the commit that put it in facts.",
        "ota_facts_event_to_fact_seconds":
            "Continuous promotion: from a booking's or observation's OTA event time to the commit that put it in facts.",
        "ota_promoter_batch_versions": "Staged versions (booking events, observations) one micro-batch promoted.",
        "ota_promoter_batch_duration_seconds": "Time one micro-batch took, waiting for the transform lock included.",
        "ota_promoter_lock_wait_seconds":
            "Time a micro-batch waited for the transform lock (a transform or another promoter holding it).",
        "ota_promoter_failures_total": "Micro-batches that failed (each is tried again over the same rows).",
        "ota_promoter_set_aside_rows_total": "Staged rows set aside after three failed micro-batches.",
        "ota_promoter_set_aside_rows": "Staged rows set aside and not promoted since (ops.promotion_set_aside).",
        "ota_opentravel_waiting_reservations":
            "OpenTravel reservations served by a queue and unacknowledged for longer than the source's fallback_warning_minutes: the OTA emails them to the property at its fallback time.",
    ]
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
