import Foundation

/// One ARI push to one registration and every try to deliver it.
public struct OpenTravelARIPushTruth: Sendable, Equatable {
    public enum Outcome: String, Sendable {
        case pending
        case delivered
        case failed
    }

    public var id: Int
    public var registration: Int
    public var hotel: String
    public var root: String
    public var echoToken: String
    public var sequence: Int
    /// Messages (`AvailStatusMessage` or `RateAmountMessage`) in the request, padding left out.
    public var messages: Int
    public var bytes: Int
    public var faults: [OpenTravelARIFault]
    /// A second sending of a delivered message (the repeat fault): same EchoToken, and it
    /// changes nothing.
    public var isRepeat: Bool
    public var retransmissionRepeat: Bool
    public var outcome: Outcome
    /// HTTP status of each try (nil: no answer).
    public var attempts: [Int?]
}

/// Sends ARI pushes in order, one registration's line at a time: unlike reservations, a
/// failed try blocks the line until it is delivered or has used all its tries, because
/// channel managers do not reorder ARI (a later message may overwrite the same field).
final class OpenTravelARISender: Sendable {
    private struct Job: Sendable {
        var delivery: Int
        var url: String
        var request: OpenTravelARIRequest
        var headers: [(String, String)]
        var body: [UInt8]
        var retransmissionBody: [UInt8]
        var retransmitRepeat: Bool
        var notBefore: ContinuousClock.Instant = .now
    }

    private struct State: Sendable {
        var deliveries: [OpenTravelARIPushTruth] = []
        /// Per delivery, the request (to rebuild the grid from what was delivered).
        var requests: [OpenTravelARIRequest] = []
        var queues: [Int: [Job]] = [:]
        var workers: [Int: Task<Void, Never>] = [:]
        var busy: Set<Int> = []
        var sequences: [Int: Int] = [:]
        var batches = 0
        var rng: SeededGenerator
        var stopped = false
    }

    private let state: Locked<State>
    private let settings: OpenTravelSettings
    private let seed: UInt64
    private let layout: WorldLayout
    private let sender = WebhookSender()
    private let count: @Sendable (String) -> Void

    init(seed: UInt64, layout: WorldLayout, settings: OpenTravelSettings, count: @escaping @Sendable (String) -> Void) {
        self.seed = seed
        self.layout = layout
        self.settings = settings
        self.count = count
        state = Locked(State(rng: SeededGenerator(seed, 76)))
    }

    var deliveries: [OpenTravelARIPushTruth] { state.withLock { $0.deliveries } }

    /// Makes the plan's requests and queues them for every ARI registration of their hotel
    /// (an unknown hotel goes to the registrations of every hotel). Returns the number queued.
    @discardableResult
    func push(_ plan: OpenTravelARIPlan, now: Int64, registrations: [WebhookRegistration]) -> Int {
        state.withLock { s in
            s.batches += 1
            var scenario = OpenTravelARIScenario(seed: seed, batch: s.batches, layout: layout, plan: plan, now: now)
            let requests = scenario.requests()
            var queued = 0
            for (index, r) in registrations.enumerated() where r.mode == .opentravelARI {
                let registration = index + 1
                for request in requests where r.property == nil || r.property == request.hotel {
                    let sequence = s.sequences[registration, default: 0] + 1
                    s.sequences[registration] = sequence
                    let echo = OpenTravelPushMessages.echoToken(
                        seed: seed, registration: registration, sequence: sequence)
                    let root = request.content.root
                    let document = { (retransmission: Bool) in
                        OpenTravelPushMessages.wrap(
                            OpenTravelARIXML.document(request, echoToken: echo, retransmission: retransmission),
                            root: root, registration: r)
                    }
                    let body = document(false)
                    let job = Job(
                        delivery: s.deliveries.count + 1, url: r.url, request: request,
                        headers: OpenTravelPushMessages.headers(root: root, r), body: body,
                        retransmissionBody: document(true), retransmitRepeat: false)
                    for fault in request.faults { count("ot_ari_" + fault.rawValue) }
                    s.deliveries.append(
                        OpenTravelARIPushTruth(
                            id: job.delivery, registration: registration, hotel: request.hotel, root: root,
                            echoToken: echo, sequence: sequence, messages: request.content.count, bytes: body.count,
                            faults: OpenTravelARIFault.allCases.filter { request.faults.contains($0) },
                            isRepeat: false, retransmissionRepeat: false, outcome: .pending, attempts: []))
                    s.requests.append(request)
                    s.queues[registration, default: []].append(job)
                    queued += 1
                }
                if s.workers[registration] == nil, !s.stopped {
                    s.workers[registration] = Task { [self] in await self.work(registration: registration) }
                }
            }
            return queued
        }
    }

    private func work(registration: Int) async {
        while true {
            let next = state.withLock { s -> (job: Job?, stop: Bool) in
                if s.stopped { return (nil, true) }
                guard let job = s.queues[registration]?.first, job.notBefore <= .now else { return (nil, false) }
                s.busy.insert(registration)
                return (job, false)
            }
            if next.stop { return }
            guard let job = next.job else {
                try? await Task.sleep(for: .milliseconds(2))
                continue
            }
            let done = await attempt(job, registration: registration)
            state.withLock { s in
                if done {
                    s.queues[registration]?.removeFirst()
                } else {
                    s.queues[registration]?[0].notBefore = .now + .milliseconds(settings.pushRetryIntervalMilliseconds)
                }
                s.busy.remove(registration)
            }
        }
    }

    /// One try; true when the job is done (delivered, or out of tries).
    private func attempt(_ job: Job, registration: Int) async -> Bool {
        let tries = state.withLock { $0.deliveries[job.delivery - 1].attempts.count }
        let retransmission = tries > 0 || job.retransmitRepeat
        let request = OutgoingRequest(
            method: "POST", url: job.url, headers: job.headers,
            body: retransmission ? job.retransmissionBody : job.body)
        var status: Int?
        var answer: [UInt8] = []
        do {
            (status, answer) = try await sender.exchange(request, timeout: settings.pushTimeoutSeconds)
        } catch {
            status = nil
        }
        let delivered = OpenTravelPushMessages.isDelivered(status: status, body: answer)
        return state.withLock { s in
            let i = job.delivery - 1
            s.deliveries[i].attempts.append(status)
            if delivered {
                s.deliveries[i].outcome = .delivered
                if !s.deliveries[i].isRepeat && s.rng.chance(job.request.repeatRate) {
                    count("ot_ari_repeat")
                    var copy = s.deliveries[i]
                    copy.id = s.deliveries.count + 1
                    copy.isRepeat = true
                    copy.retransmissionRepeat = s.rng.chance(0.5)
                    copy.faults = [.repeatMessage]
                    copy.outcome = .pending
                    copy.attempts = []
                    s.deliveries.append(copy)
                    s.requests.append(job.request)
                    var again = job
                    again.delivery = copy.id
                    again.retransmitRepeat = copy.retransmissionRepeat
                    // Right behind the original, before anything the sender queued after it.
                    s.queues[registration]?.insert(again, at: 1)
                }
                return true
            }
            if s.deliveries[i].attempts.count >= settings.pushMaxAttempts {
                s.deliveries[i].outcome = .failed
                return true
            }
            return false
        }
    }

    /// The grid the messages delivered to `registration` (the first ARI registration by
    /// default) imply, applied once each in the order they were delivered.
    func grid(registration: Int?, hotel: String?) -> [OpenTravelARICellTruth] {
        let (deliveries, requests) = state.withLock { ($0.deliveries, $0.requests) }
        guard let registration = registration ?? deliveries.first?.registration else { return [] }
        var grid = OpenTravelARIGrid(layout: layout)
        for (d, request) in zip(deliveries, requests)
        where d.registration == registration && d.outcome == .delivered && !d.isRepeat {
            grid.apply(request)
        }
        return grid.truth(hotel: hotel)
    }

    /// Returns once every ARI push so far was delivered or failed for good.
    func waitUntilIdle() async {
        while state.withLock({ s in !s.busy.isEmpty || s.queues.values.contains { !$0.isEmpty } }) {
            try? await Task.sleep(for: .milliseconds(2))
        }
    }

    func stop() async {
        let workers = state.withLock { s -> [Task<Void, Never>] in
            s.stopped = true
            return Array(s.workers.values)
        }
        for worker in workers { await worker.value }
    }
}

extension OpenTravelARIContent {
    var count: Int {
        switch self {
        case .avail(let m): m.count
        case .rates(let m): m.count
        }
    }
}

extension OpenTravelARIPushTruth {
    var jsonValue: JSONValue {
        .object([
            "id" => .int(id), "registration" => .int(registration), "hotel" => .string(hotel), "root" => .string(root),
            "echo_token" => .string(echoToken), "sequence" => .int(sequence), "messages" => .int(messages),
            "bytes" => .int(bytes), "faults" => .array(faults.map { .string($0.rawValue) }),
            "repeat" => .bool(isRepeat), "retransmission_repeat" => .bool(retransmissionRepeat),
            "outcome" => .string(outcome.rawValue),
            "attempts" => .array(attempts.map { $0.map(JSONValue.int) ?? .null }),
        ])
    }
}
