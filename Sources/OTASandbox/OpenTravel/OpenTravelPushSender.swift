import Foundation

/// One OpenTravel push and every try to deliver it.
public struct OpenTravelPushTruth: Sendable, Equatable {
    public struct Attempt: Sendable, Equatable {
        public var status: Int?
        /// HTTP 200 with `<Success/>` and no `<Error>`.
        public var delivered: Bool
        /// Sent with RetransmissionIndicator="true".
        public var retransmission: Bool
        public var error: String?
        public var deadEndpoint: Bool
    }

    public enum Outcome: String, Sendable {
        case pending
        case delivered
        case failed
    }

    public var id: Int
    public var registration: Int
    public var hotel: String
    public var reservation: String
    public var version: Int
    public var event: BookingEvent
    public var root: String
    public var resStatus: String?
    public var innerResStatus: String?
    public var echoToken: String
    public var sequence: Int
    public var namespace: Bool
    public var envelope: String
    /// A repeat of a delivered message (the repeat fault), same EchoToken and SequenceNmbr.
    public var isRepeat: Bool
    /// The repeat was sent with RetransmissionIndicator="true".
    public var retransmissionRepeat: Bool
    /// A Modify/Cancel sent before its booking's Commit (the early-change fault).
    public var early: Bool
    public var outcome: Outcome
    public var attempts: [Attempt]
}

/// Sends OpenTravel pushes: one worker per registration delivers its messages one at a
/// time in order; a failed try goes back to the end of the line and is retried after
/// the retry interval, with RetransmissionIndicator="true" and the same EchoToken,
/// until it is delivered or has used all its tries.
final class OpenTravelPushSender: Sendable {
    private struct Job: Sendable {
        var delivery: Int
        var registration: Int
        var url: String
        var message: OpenTravelPushMessage
        var notBefore: ContinuousClock.Instant
        var retransmitRepeat: Bool
    }

    private struct State: Sendable {
        var deliveries: [OpenTravelPushTruth] = []
        var queues: [Int: [Job]] = [:]
        var busy: Set<Int> = []
        var workers: [Int: Task<Void, Never>] = [:]
        var sequences: [Int: Int] = [:]
        var rng: SeededGenerator
        var stopped = false
    }

    private let state: Locked<State>
    private let settings: OpenTravelSettings
    private let seed: UInt64
    private let sender = WebhookSender()
    private let count: @Sendable (String) -> Void
    private let faults: @Sendable () -> FaultSettings
    private static let deadEndpoint = "http://127.0.0.1:9/dead"

    init(
        seed: UInt64, settings: OpenTravelSettings, count: @escaping @Sendable (String) -> Void,
        faults: @escaping @Sendable () -> FaultSettings
    ) {
        self.seed = seed
        self.settings = settings
        self.count = count
        self.faults = faults
        state = Locked(State(rng: SeededGenerator(seed, 73)))
    }

    var deliveries: [OpenTravelPushTruth] { state.withLock { $0.deliveries } }

    /// Queues the pushes of one clock advance, in world order, for every OpenTravel
    /// registration that covers their hotel; then the ordering faults reorder each
    /// registration's batch (SequenceNmbr keeps the sender's order).
    func enqueue(_ contents: [OpenTravelPushContent], registrations: [WebhookRegistration]) {
        let f = faults()
        state.withLock { s in
            for (index, r) in registrations.enumerated() where r.mode == .opentravel {
                let registration = index + 1
                var batch: [(job: Job, content: OpenTravelPushContent, early: Bool)] = []
                for content in contents where r.property == nil || r.property == content.hotel {
                    let sequence = s.sequences[registration, default: 0] + 1
                    s.sequences[registration] = sequence
                    let namespace = !s.rng.chance(f.otNoNamespaceRate)
                    if !namespace { count("ot_no_namespace") }
                    let clash = s.rng.chance(f.otPushStatusClashRate)
                    if clash { count("ot_push_status_clash") }
                    let message = OpenTravelPushMessages.make(
                        content, registration: r,
                        echoToken: OpenTravelPushMessages.echoToken(
                            seed: seed, registration: registration, sequence: sequence),
                        sequence: sequence, namespace: namespace, clash: clash)
                    batch.append(
                        (
                            Job(
                                delivery: 0, registration: registration, url: r.url, message: message,
                                notBefore: .now, retransmitRepeat: false), content, false
                        ))
                }
                reorder(&batch, faults: f, rng: &s.rng)
                for (job, content, early) in batch {
                    var job = job
                    job.delivery = s.deliveries.count + 1
                    s.deliveries.append(truth(job, content: content, envelope: r.envelope, early: early))
                    s.queues[registration, default: []].append(job)
                }
                startWorker(&s, registration: registration)
            }
        }
    }

    /// Early change: a booking's first message moves behind its second. Shuffle: a
    /// message swaps with the next one.
    private func reorder(
        _ batch: inout [(job: Job, content: OpenTravelPushContent, early: Bool)], faults f: FaultSettings,
        rng: inout SeededGenerator
    ) {
        func booking(_ c: OpenTravelPushContent) -> Int {
            switch c {
            case .reservation(let id, _, _, _): return id
            }
        }
        var i = 0
        while i < batch.count {
            if case .reservation(_, _, .created, _) = batch[i].content,
                let j = batch.indices.dropFirst(i + 1).first(where: {
                    booking(batch[$0].content) == booking(batch[i].content)
                }),
                rng.chance(f.otPushEarlyChangeRate)
            {
                let commit = batch.remove(at: i)
                batch.insert(commit, at: j)
                count("ot_push_early_change")
                continue
            }
            i += 1
        }
        var k = 0
        while k + 1 < batch.count {
            if rng.chance(f.otPushShuffleRate) {
                batch.swapAt(k, k + 1)
                count("ot_push_shuffle")
                k += 2
            } else {
                k += 1
            }
        }
        // Early: a change that goes out before its booking's Commit, whichever fault put it there.
        var commitLater = Set<Int>()
        for k in batch.indices.reversed() {
            if case .reservation(let id, _, .created, _) = batch[k].content {
                commitLater.insert(id)
            } else {
                batch[k].early = commitLater.contains(booking(batch[k].content))
            }
        }
    }

    private func truth(_ job: Job, content: OpenTravelPushContent, envelope: WebhookRegistration.Envelope, early: Bool)
        -> OpenTravelPushTruth
    {
        switch content {
        case .reservation(let id, let version, let event, let body):
            return OpenTravelPushTruth(
                id: job.delivery, registration: job.registration, hotel: body.property, reservation: String(id),
                version: version, event: event, root: job.message.root, resStatus: job.message.resStatus,
                innerResStatus: job.message.innerResStatus, echoToken: job.message.echoToken,
                sequence: job.message.sequence, namespace: job.message.namespace, envelope: envelope.rawValue,
                isRepeat: false, retransmissionRepeat: false, early: early, outcome: .pending, attempts: [])
        }
    }

    private func startWorker(_ s: inout State, registration: Int) {
        guard s.workers[registration] == nil, !s.stopped else { return }
        s.workers[registration] = Task { [self] in await self.work(registration: registration) }
    }

    /// Takes the first due job of its registration; waits a little when none is due.
    private func work(registration: Int) async {
        while true {
            let next = state.withLock { s -> (job: Job?, stop: Bool) in
                if s.stopped { return (nil, true) }
                let now = ContinuousClock.Instant.now
                guard let i = s.queues[registration]?.firstIndex(where: { $0.notBefore <= now }) else {
                    return (nil, false)
                }
                s.busy.insert(registration)
                return (s.queues[registration]!.remove(at: i), false)
            }
            if next.stop { return }
            guard let job = next.job else {
                try? await Task.sleep(for: .milliseconds(2))
                continue
            }
            await attempt(job)
        }
    }

    private func attempt(_ job: Job) async {
        let f = faults()
        let (dead, tries) = state.withLock { s in
            (s.rng.chance(f.deadEndpointRate), s.deliveries[job.delivery - 1].attempts.count)
        }
        if dead { count("dead_endpoint") }
        let retransmission = tries > 0 || job.retransmitRepeat
        let request = OutgoingRequest(
            method: "POST", url: dead ? Self.deadEndpoint : job.url, headers: job.message.headers,
            body: retransmission ? job.message.retransmissionBody : job.message.body)
        var status: Int?
        var answer: [UInt8] = []
        var failure: String?
        do {
            (status, answer) = try await sender.exchange(request, timeout: settings.pushTimeoutSeconds)
        } catch {
            failure = "\(error)"
        }
        let delivered = OpenTravelPushMessages.isDelivered(status: status, body: answer)
        state.withLock { s in
            s.busy.remove(job.registration)
            let i = job.delivery - 1
            s.deliveries[i].attempts.append(
                .init(
                    status: status, delivered: delivered, retransmission: retransmission, error: failure,
                    deadEndpoint: dead))
            if delivered {
                s.deliveries[i].outcome = .delivered
                if !s.deliveries[i].isRepeat && s.rng.chance(f.otPushRepeatRate) {
                    count("ot_push_repeat")
                    var copy = s.deliveries[i]
                    copy.id = s.deliveries.count + 1
                    copy.isRepeat = true
                    copy.retransmissionRepeat = s.rng.chance(0.5)
                    copy.outcome = .pending
                    copy.attempts = []
                    s.deliveries.append(copy)
                    var again = job
                    again.delivery = copy.id
                    again.notBefore = .now
                    again.retransmitRepeat = copy.retransmissionRepeat
                    s.queues[job.registration, default: []].append(again)
                }
            } else if s.deliveries[i].attempts.count >= settings.pushMaxAttempts {
                s.deliveries[i].outcome = .failed
            } else {
                var again = job
                again.notBefore = .now + .milliseconds(settings.pushRetryIntervalMilliseconds)
                s.queues[job.registration, default: []].append(again)
            }
        }
    }

    /// Returns once every push so far was delivered or failed for good.
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
