import Foundation

/// Queues webhook notifications, delivers them with a few workers and retries with
/// exponential backoff on anything but a 200, keeping a log of every attempt.
final class WebhookDispatcher: Sendable {
    private struct Job: Sendable {
        var delivery: Int
        var request: OutgoingRequest
        var notBefore: ContinuousClock.Instant
        /// For PUSH: (property, booking, versions) to acknowledge on a 200.
        var acknowledge: (Int, Int, Int)?
        /// For PING: the property, whose next pending-list read answers this PING.
        var pinged: Int?
    }

    private struct State: Sendable {
        var registrations: [WebhookRegistration] = []
        var deliveries: [WebhookDelivery] = []
        var queue: [Job] = []
        var inFlight = 0
        var rng: SeededGenerator
        var workers: [Task<Void, Never>] = []
        var stopped = false
        var nextEventID = 1
    }

    private let state: Locked<State>
    private let retry: WebhookRetryPolicy
    private let sender = WebhookSender()
    private let count: @Sendable (String) -> Void
    private let acknowledge: @Sendable (Int, Int, Int) -> Void
    private let pinged: @Sendable (Int) -> Void
    private let faults: @Sendable () -> FaultSettings
    private static let workerCount = 4
    private static let deadEndpoint = "http://127.0.0.1:9/dead"

    init(
        seed: UInt64, retry: WebhookRetryPolicy, count: @escaping @Sendable (String) -> Void,
        acknowledge: @escaping @Sendable (Int, Int, Int) -> Void, pinged: @escaping @Sendable (Int) -> Void = { _ in },
        faults: @escaping @Sendable () -> FaultSettings
    ) {
        state = Locked(State(rng: SeededGenerator(seed, 60)))
        self.retry = retry
        self.count = count
        self.acknowledge = acknowledge
        self.pinged = pinged
        self.faults = faults
    }

    /// Adds an endpoint; throws for a property code the world does not have.
    func register(_ registration: WebhookRegistration, layout: WorldLayout) throws -> Int {
        if let code = registration.property, layout.propertyIndex(code: code) == nil {
            throw WebhookRegistrationError(message: "unknown property \(code)")
        }
        guard URL(string: registration.url)?.scheme?.hasPrefix("http") == true else {
            throw WebhookRegistrationError(message: "url must be http(s)://...")
        }
        return state.withLock {
            $0.registrations.append(registration)
            return $0.registrations.count
        }
    }

    var registrations: [WebhookRegistration] { state.withLock { $0.registrations } }

    var deliveries: [WebhookDelivery] { state.withLock { $0.deliveries } }

    /// Whether anyone listens to booking events and to rate events.
    func interests() -> (bookings: Bool, rates: Bool) {
        state.withLock { s in
            (
                s.registrations.contains { $0.mode != .rates && $0.mode != .opentravelARI },
                s.registrations.contains { $0.mode == .rates }
            )
        }
    }

    func enqueue(_ events: [WorldEvent], layout: WorldLayout, faults: FaultSettings) {
        let wallClock = Int(Date().timeIntervalSince1970)
        state.withLock { s in
            for event in events {
                for (index, r) in s.registrations.enumerated() {
                    switch (event, r.mode) {
                    case (.booking(let p, let id, let type, let version, let body), .ping),
                        (.booking(let p, let id, let type, let version, let body), .push):
                        let code = layout.properties[p].code
                        guard r.property == nil || r.property == code else { continue }
                        let request =
                            r.mode == .ping
                            ? WebhookPayloads.ping(r, property: code)
                            : WebhookPayloads.push(r, id: id, type: type, body: body)
                        let copies = r.mode == .push && s.rng.chance(faults.duplicatePushRate) ? 2 : 1
                        if copies == 2 { count("duplicate_push") }
                        for copy in 0..<copies {
                            add(
                                &s, registration: index + 1, r, property: code, bookingID: id, type: type,
                                duplicate: copy == 1, request: request,
                                acknowledge: r.mode == .push ? (p, id, version) : nil, pinged: r.mode == .ping ? p : nil
                            )
                        }
                    case (.rateUpdate(let p, let rate, let night, let time, let cents), .rates):
                        let code = layout.properties[p].code
                        guard r.property == nil || r.property == code else { continue }
                        let eventID = "evt_\(s.nextEventID)"
                        s.nextEventID += 1
                        let payload = JSONValue.object([
                            "event_id" => .string(eventID), "property_id" => .string(code),
                            "rate_plan_code" => .string(String(layout.rates[rate].id)),
                            "room_code" => .string(layout.rooms[layout.rates[rate].room].code),
                            "base_rate" => .cents(cents), "currency" => .string(layout.properties[p].currency),
                            "effective_date" => .string(CivilCalendar.dateString(days: layout.firstDay + night)),
                            "event_timestamp" => .string(CivilCalendar.timestampString(seconds: time)),
                        ])
                        let request = WebhookPayloads.rateUpdate(
                            r, eventID: eventID, event: payload, wallClock: wallClock)
                        add(
                            &s, registration: index + 1, r, property: code, bookingID: nil, type: "rate_update",
                            duplicate: false, request: request, acknowledge: nil)
                    default: continue
                    }
                }
            }
            startWorkersIfNeeded(&s)
        }
    }

    private func add(
        _ s: inout State, registration: Int, _ r: WebhookRegistration, property: String, bookingID: Int?, type: String,
        duplicate: Bool, request: OutgoingRequest, acknowledge: (Int, Int, Int)?, pinged: Int? = nil
    ) {
        let id = s.deliveries.count + 1
        s.deliveries.append(
            WebhookDelivery(
                id: id, registration: registration, mode: r.mode, url: r.url, property: property, bookingID: bookingID,
                type: type, duplicate: duplicate, attempts: [], outcome: .pending))
        s.queue.append(Job(delivery: id, request: request, notBefore: .now, acknowledge: acknowledge, pinged: pinged))
    }

    private func startWorkersIfNeeded(_ s: inout State) {
        guard s.workers.isEmpty, !s.stopped else { return }
        s.workers = (0..<Self.workerCount).map { _ in
            Task { [self] in await self.work() }
        }
    }

    /// Takes the next due job in FIFO order; waits a little when none is due.
    private func work() async {
        while true {
            let next = state.withLock { s -> (job: Job?, stop: Bool) in
                if s.stopped { return (nil, true) }
                let now = ContinuousClock.Instant.now
                guard let i = s.queue.firstIndex(where: { $0.notBefore <= now }) else { return (nil, false) }
                s.inFlight += 1
                return (s.queue.remove(at: i), false)
            }
            if next.stop { return }
            guard let job = next.job else {
                try? await Task.sleep(for: .milliseconds(5))
                continue
            }
            await attempt(job)
        }
    }

    private func attempt(_ job: Job) async {
        var request = job.request
        let dead = state.withLock { $0.rng.chance(faults().deadEndpointRate) }
        if dead {
            count("dead_endpoint")
            request.url = Self.deadEndpoint
        }
        // Credited before sending: the receiver answers at once and reads the list behind.
        if let property = job.pinged, !dead { pinged(property) }
        var status: Int?
        var failure: String?
        do {
            status = try await sender.send(request)
        } catch {
            failure = "\(error)"
        }
        let delivered = status == 200
        if delivered, let (p, id, versions) = job.acknowledge { acknowledge(p, id, versions) }
        state.withLock { s in
            s.inFlight -= 1
            let i = job.delivery - 1
            s.deliveries[i].attempts.append(.init(status: status, error: failure, deadEndpoint: dead))
            if delivered {
                s.deliveries[i].outcome = .delivered
            } else if s.deliveries[i].attempts.count >= retry.maxAttempts {
                s.deliveries[i].outcome = .failed
            } else {
                let backoff = retry.initialBackoffMilliseconds << (s.deliveries[i].attempts.count - 1)
                var again = job
                again.notBefore = .now + .milliseconds(backoff)
                s.queue.append(again)
            }
        }
    }

    /// Returns once every queued delivery has been delivered or has failed for good.
    func waitUntilIdle() async {
        while state.withLock({ !$0.queue.isEmpty || $0.inFlight > 0 }) {
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    func stop() async {
        let workers = state.withLock { s -> [Task<Void, Never>] in
            s.stopped = true
            return s.workers
        }
        for worker in workers { await worker.value }
    }
}

/// A webhook registration that cannot work, with the reason.
public struct WebhookRegistrationError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { "webhook registration: \(message)" }
}
