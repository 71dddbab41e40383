import Foundation
import Hummingbird
import Logging

/// A running (or ready to run) local OTA: the HTTP server around one simulated world.
/// Many can run in one process; each has its own world, clock, faults and port.
public final class SandboxServer: Sendable {
    let core: SandboxCore
    private let running = Locked<(task: Task<Void, any Error>, port: Int)?>(nil)
    private let ticker = Locked<Task<Void, Never>?>(nil)

    /// Builds the world (deterministic from `configuration.seed`); nothing listens yet.
    public init(configuration: SandboxConfiguration = SandboxConfiguration()) throws {
        guard (1...2000).contains(configuration.propertyCount) else {
            throw SandboxConfigurationError(
                message: "propertyCount must be in 1-2000, not \(configuration.propertyCount)")
        }
        core = try SandboxCore(configuration: configuration)
    }

    /// Binds `configuration.host` on `configuration.port` (0 picks a free port) and
    /// returns the bound port once the server accepts connections.
    public func start() async throws -> Int {
        if let port = running.withLock({ $0?.port }) { return port }
        let configuration = core.configuration
        // Stopping cancels the server task, which Hummingbird reports at error level;
        // the sandbox has nothing else to log, so only critical messages get through.
        var logger = Logger(label: "ota-sandbox")
        logger.logLevel = .critical
        let (portStream, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            responder: SandboxResponder(core: core),
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: "ota-sandbox"),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            },
            logger: logger)
        let task = Task {
            defer { portContinuation.finish() }
            try await app.run()
        }
        var port = 0
        for await bound in portStream { port = bound }
        guard port > 0 else {
            task.cancel()
            _ = await task.result
            if case .failure(let error) = await task.result { throw error }
            throw SandboxConfigurationError(message: "could not bind \(configuration.host):\(configuration.port)")
        }
        running.withLock { $0 = (task, port) }
        core.baseURL.withLock { $0 = "http://\(configuration.host):\(port)" }
        if let seconds = configuration.tickSeconds, seconds > 0 {
            let core = self.core
            ticker.withLock {
                $0 = Task {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .seconds(seconds))
                        if !Task.isCancelled { core.advance(minutes: 1) }
                    }
                }
            }
        }
        return port
    }

    /// Stops the clock, the webhook workers and the server.
    public func stop() async {
        ticker.withLock { $0 }?.cancel()
        await core.webhooks.stop()
        await core.openTravelPushes.stop()
        await core.openTravelARI.stop()
        guard
            let task = running.withLock({ state -> Task<Void, any Error>? in
                defer { state = nil }
                return state?.task
            })
        else { return }
        task.cancel()
        _ = await task.result
    }

    /// "http://127.0.0.1:PORT" once started.
    public var baseURL: String? { core.baseURL.withLock { $0 } }

    /// The simulated time now.
    public var now: Date { Date(timeIntervalSince1970: TimeInterval(core.world.withLock { $0.now })) }

    /// Moves simulated time forward; returns the new time.
    @discardableResult
    public func advance(minutes: Int) -> Date {
        Date(timeIntervalSince1970: TimeInterval(core.advance(minutes: minutes)))
    }

    public func accounts() -> [PropertyAccount] { core.world.withLock { $0.accounts() } }

    /// Every version of every booking (of one property, or all).
    public func bookingVersions(property: String? = nil) -> [BookingVersionTruth] {
        core.world.withLock { $0.bookingVersions(property: property) }
    }

    /// The availability grid (room x night) over the whole horizon.
    public func availabilityGrid(property: String? = nil) -> [AvailabilityTruth] {
        core.world.withLock { $0.availability(property: property, nights: 0..<$0.layout.dayCount) }
    }

    /// The rate grid (rate x night x occupancy) over the whole horizon.
    public func rateGrid(property: String? = nil) -> [RateTruth] {
        core.world.withLock { $0.rates(property: property, nights: 0..<$0.layout.dayCount) }
    }

    /// The cursor feed's current records, in id order.
    public func inventoryRecords(property: String? = nil) -> [InventoryRecordTruth] {
        core.world.withLock { $0.inventory(property: property) }
    }

    public func malformedRecords() -> [MalformedRecord] { core.world.withLock { $0.malformedRecords() } }

    /// Stops serving a rate plan in the WebHotelier rate feed, as a hotel that withdrew
    /// it (its cells simply vanish from the feed), or serves it again with `withdrawn`
    /// false. Returns false for an unknown rate.
    @discardableResult
    public func withdrawRate(property code: String, rateID: Int, withdrawn: Bool = true) -> Bool {
        core.world.withLock { state in
            guard let p = state.layout.properties.firstIndex(where: { $0.code == code }),
                let rate = state.layout.properties[p].rates.first(where: { state.layout.rates[$0].id == rateID })
            else { return false }
            if withdrawn { state.withdrawnRates.insert(rate) } else { state.withdrawnRates.remove(rate) }
            return true
        }
    }

    /// Per booking id, what each fetch of GET /reservation/{id} served, in order: the
    /// malformation's name, or nil for a clean body.
    public func bookingFetches() -> [Int: [String?]] {
        core.counters.withLock { $0.bookingFetches.mapValues { $0.map { $0?.rawValue } } }
    }

    /// Runs `observer` with the booking id before each sync is applied (nil to stop).
    public func observeSyncs(_ observer: (@Sendable (Int) async -> Void)?) {
        core.syncObserver.withLock { $0 = observer }
    }

    /// Runs `observer` with (account, queue "new"/"modify", ids) before each OpenTravel
    /// acknowledgement with `<Success/>` is applied (nil to stop).
    public func observeOpenTravelAcks(_ observer: (@Sendable (String, String, [String]) async -> Void)?) {
        guard let observer else {
            core.openTravelAckObserver.withLock { $0 = nil }
            return
        }
        let applying: @Sendable (String, String, [String]) async -> Bool = { account, queue, ids in
            await observer(account, queue, ids)
            return true
        }
        core.openTravelAckObserver.withLock { $0 = applying }
    }

    /// Like `observeOpenTravelAcks`, but `decide` answers whether the acknowledgement is
    /// applied: false drops it unapplied and resets the connection, as if the client had
    /// died before sending it (crash trials between a commit and its acknowledgement).
    /// A dropped acknowledgement is logged with the outcome `dropped`.
    public func interceptOpenTravelAcks(_ decide: (@Sendable (String, String, [String]) async -> Bool)?) {
        core.openTravelAckObserver.withLock { $0 = decide }
    }

    /// Booking ids still in their property's sync queue, per property code.
    public func syncQueue() -> [String: [Int]] {
        core.world.withLock { state in
            Dictionary(
                uniqueKeysWithValues: state.layout.properties.enumerated().map { index, property in
                    (property.code, state.queues[index].keys.sorted())
                })
        }
    }

    /// Bookings changed silently (the silent-change fault): the version exists, the queue never heard of it.
    public func silentChanges() -> [(id: Int, property: String, time: Date)] {
        core.world.withLock { state in
            state.silentChanges.map {
                ($0.id, state.layout.properties[$0.property].code, Date(timeIntervalSince1970: TimeInterval($0.time)))
            }
        }
    }

    /// Pending-list calls quicker than the minimum interval, per property code.
    public func minimumIntervalViolations() -> [String: Int] {
        core.world.withLock { state in
            Dictionary(
                uniqueKeysWithValues: state.layout.properties.enumerated().map { ($1.code, state.violations[$0]) })
        }
    }

    public func stats() -> SandboxStats { Self.stats(core) }

    static func stats(_ core: SandboxCore) -> SandboxStats {
        let counters = core.counters.withLock { $0 }
        let (behaviour, drifts, violations) = core.world.withLock { state in
            (
                state.behaviourFaults, state.driftCount,
                Dictionary(
                    uniqueKeysWithValues: state.layout.properties.enumerated().map { ($1.code, state.violations[$0]) })
            )
        }
        return SandboxStats(
            requests: counters.requests, faults: counters.faults.merging(behaviour, uniquingKeysWith: +),
            violations: violations, priceDrifts: drifts, feedReads: counters.feedReads)
    }

    public var faults: FaultSettings { core.faults }

    /// Replaces the fault settings (transport faults apply from the next response).
    public func setFaults(_ faults: FaultSettings) {
        core.world.withLock { $0.faults = faults }
    }

    /// Registers a webhook endpoint; returns its id.
    @discardableResult
    public func registerWebhook(_ registration: WebhookRegistration) throws -> Int {
        try core.webhooks.register(registration, layout: core.layout)
    }

    /// Every version of every reservation the OpenTravel queues and pushes carried
    /// (bookings with a version after the start), as an OpenTravel reader should read it.
    public func openTravelReservations(hotel: String? = nil) -> [OpenTravelReservationVersionTruth] {
        core.world.withLock { $0.openTravelReservations(hotel: hotel) }
    }

    /// The items waiting in the OpenTravel queues (of one account, or all).
    public func openTravelQueues(account: String? = nil) -> [OpenTravelQueueItemTruth] {
        core.world.withLock { $0.openTravelQueues(account: account) }
    }

    /// Every POST to an OpenTravel queue path, in order.
    public func openTravelAcks(account: String? = nil) -> [OpenTravelAckTruth] {
        core.world.withLock { $0.openTravelAcks(account: account) }
    }

    /// Items that waited the fallback time unacknowledged.
    public func openTravelFallbacks() -> [OpenTravelFallbackTruth] { core.world.withLock { $0.openTravelFallbacks() } }

    /// GETs per account and queue, and the ones that came too fast.
    public func openTravelPolls() -> OpenTravelPollTruth { core.world.withLock { $0.openTravelPolls() } }

    /// The OpenTravel machine accounts (the configured ones, or the default one).
    public func openTravelAccounts() -> [OpenTravelAccount] { core.world.withLock { $0.openTravel.accounts } }

    /// Every OpenTravel push and its tries, in the order they were queued.
    public func openTravelPushes() -> [OpenTravelPushTruth] { core.openTravelPushes.deliveries }

    /// Waits until every OpenTravel push so far was delivered or failed for good.
    public func waitForOpenTravelPushes() async { await core.openTravelPushes.waitUntilIdle() }

    /// Pushes availability, restrictions and rates to every `opentravelARI` registration,
    /// in order: the plan's flush, then its deltas. Returns the number of requests queued.
    @discardableResult
    public func pushOpenTravelARI(_ plan: OpenTravelARIPlan) -> Int { core.pushOpenTravelARI(plan) }

    /// Every ARI push and its tries, in the order they were queued.
    public func openTravelARIPushes() -> [OpenTravelARIPushTruth] { core.openTravelARI.deliveries }

    /// Waits until every ARI push so far was delivered or failed for good.
    public func waitForOpenTravelARI() async { await core.openTravelARI.waitUntilIdle() }

    /// The grid (hotel, room, rate plan, night: every field) that the ARI messages
    /// delivered to `registration` (by default the first ARI registration) imply.
    public func openTravelARIGrid(registration: Int? = nil, hotel: String? = nil) -> [OpenTravelARICellTruth] {
        core.openTravelARI.grid(registration: registration, hotel: hotel)
    }

    /// Invalidates every token issued so far.
    public func revokeOpenTravelTokens() { core.world.withLock { $0.openTravel.tokens = [:] } }

    public func webhookDeliveries() -> [WebhookDelivery] { core.webhooks.deliveries }

    /// Waits until every webhook delivery so far was delivered or gave up.
    public func waitForWebhookDeliveries() async { await core.webhooks.waitUntilIdle() }
}

/// A configuration the sandbox cannot run with, and why.
public struct SandboxConfigurationError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { "ota-sandbox: \(message)" }
}
