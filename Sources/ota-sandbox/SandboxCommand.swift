import ArgumentParser
import Foundation
import OTASandbox

/// `ota-sandbox`: runs the local OTA until interrupted.
@main
struct SandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ota-sandbox",
        abstract: "A local OTA: WebHotelier dialect, a cursor feed and webhooks over a simulated world.",
        discussion: """
            Prints its base URL on start, then serves until SIGINT/SIGTERM. Accounts (Basic-auth \
            credentials per property), truth and controls are under /_sandbox (see docs/sandbox.md). \
            Rates are probabilities in 0...1; every fault is off by default.
            """)

    @Option(help: "Interface to bind.") var host = "127.0.0.1"
    @Option(help: "Port to bind; 0 picks a free one.") var port = 0
    @Option(help: "Seed of the simulated world: the same seed gives the same world.") var seed: UInt64 = 1
    @Option(help: "Number of properties (one WebHotelier account each), 1-2000.") var properties = 5
    @Option(help: "Bookings made before the start, already synced (found by search only).")
    var initialBookings = 10
    @Option(help: "Simulated start time (ISO-8601 UTC).") var start = "2026-01-01T00:00:00Z"
    @Option(
        help:
            "Wall-clock mode: advance one simulated minute every this many real seconds (0 = only POST /_sandbox/advance)."
    )
    var tick: Double = 0
    @Option(
        help:
            "Minimum simulated minutes between pending lists of one property; quicker ones count as violations (0 = off)."
    )
    var minInterval = 5
    @Option(help: "Bearer token of the cursor feed /v2/inventory.") var token = "sandbox-token"
    @Option(
        help: "Cursor-feed quota as CAPACITY/REFILL_PER_SECOND (token bucket), e.g. 20/5; 429 + Retry-After past it.")
    var quota: String?

    @Option(help: "Transport: probability of a 500 INTERNAL_ERROR per response.") var faultServerError = 0.0
    @Option(help: "Transport: probability that a response starts a 503 burst.") var faultUnavailableBurst = 0.0
    @Option(help: "Transport: length of a 503 burst (responses).") var faultUnavailableBurstLength = 3
    @Option(help: "Transport: probability that a response starts a 429 storm.") var faultRateLimitStorm = 0.0
    @Option(help: "Transport: length of a 429 storm (responses).") var faultRateLimitStormLength = 5
    @Option(help: "Transport: Retry-After seconds sent with 429s of a storm.") var faultRetryAfter = 1
    @Option(help: "Transport: probability of added latency.") var faultLatency = 0.0
    @Option(help: "Transport: added latency in milliseconds.") var faultLatencyMs = 200
    @Option(help: "Transport: probability of a slowly sent body (8 chunks).") var faultSlowBody = 0.0
    @Option(help: "Transport: pause between slow-body chunks in milliseconds.") var faultSlowBodyDelayMs = 20
    @Option(help: "Transport: probability of a connection reset mid-body.") var faultConnectionReset = 0.0
    @Option(help: "Transport: probability of a 200 whose JSON is cut in half.") var faultTruncatedBody = 0.0
    @Option(help: "Data: share of malformed records (bookings, availability, rates, feed), fixed by the seed.")
    var faultMalformed = 0.0
    @Option(help: "Behaviour: probability that a feed page repeats the previous page's last record.")
    var faultDuplicatePageRecord = 0.0
    @Option(help: "Behaviour: probability that a PUSH is delivered twice.") var faultDuplicatePush = 0.0
    @Option(help: "Behaviour: probability per property per simulated minute of a synced booking resent as NEW.")
    var faultResentNew = 0.0
    @Option(help: "Behaviour: probability that a change is listed out of date order in changes[].")
    var faultOutOfOrderChanges = 0.0
    @Option(help: "Behaviour: probability that a webhook attempt goes to a dead endpoint.")
    var faultDeadEndpoint = 0.0
    @Option(help: "Behaviour: probability that a booking change never enters the sync queue (a silent change).")
    var faultSilentChange = 0.0

    @Option(help: "OpenTravel: probability that a GET, acknowledgement or token call is answered 401.")
    var faultOtUnauthorized = 0.0
    @Option(help: "OpenTravel: probability that a GET or acknowledgement is answered 403 (unconnected hotel).")
    var faultOtForbidden = 0.0
    @Option(help: "OpenTravel: probability that an acknowledgement is applied and its answer lost.")
    var faultOtLostAck = 0.0
    @Option(help: "OpenTravel: probability that a GET body or push comes without the OTA namespace.")
    var faultOtNoNamespace = 0.0
    @Option(help: "OpenTravel push: probability that a delivered push is sent again.") var faultOtPushRepeat = 0.0
    @Option(help: "OpenTravel push: probability that a push swaps places with the next one.")
    var faultOtPushShuffle = 0.0
    @Option(help: "OpenTravel push: probability that a Modify/Cancel goes out before its Commit.")
    var faultOtPushEarlyChange = 0.0
    @Option(help: "OpenTravel push: probability that root and inner ResStatus differ.")
    var faultOtPushStatusClash = 0.0

    @Option(
        name: .customLong("ot-account"),
        help: """
            OpenTravel machine account (repeatable): user=U,password=P[,hotels=HTL001+HTL002][,basic=no]; \
            none = one account "ota-machine" for every property.
            """)
    var otAccounts: [String] = []
    @Option(help: "OpenTravel: simulated minutes an item may wait unacknowledged before the fallback.")
    var otFallbackMinutes = 30
    @Option(help: "OpenTravel: items per GET at most.") var otBatchSize = 50
    @Option(help: "OpenTravel: wall-clock seconds expected between two GETs of one queue.")
    var otPollInterval = 20.0
    @Option(help: "OpenTravel: wall-clock seconds expected after an acknowledgement before the next GET.")
    var otPollAfterAck = 5.0
    @Option(help: "OpenTravel: lifetime of a token in seconds.") var otTokenLifetime = 3600
    @Option(help: "OpenTravel push: tries per push before it is marked failed.") var otPushAttempts = 10
    @Option(help: "OpenTravel push: milliseconds between tries.") var otPushRetryMs = 360_000
    @Option(help: "OpenTravel push: seconds to wait for an answer.") var otPushTimeout = 10.0

    @Option(
        name: .customLong("webhook"),
        help: """
            Webhook endpoint (repeatable): MODE=URL[,property=CODE][,format=json|xml][,username=U][,password=P]\
            [,signing=hmac|standard][,secret=S][,envelope=bare|soap][,messages=notif|split] with MODE ping, push, \
            rates, opentravel or opentravel_ari.
            """)
    var webhooks: [String] = []
    @Option(help: "Webhook delivery attempts before giving up.") var webhookAttempts = 5
    @Option(help: "Webhook retry backoff of the first retry in milliseconds (doubles each time).")
    var webhookBackoffMs = 200

    func validate() throws {
        let rates: [(String, Double)] = [
            ("server-error", faultServerError), ("unavailable-burst", faultUnavailableBurst),
            ("rate-limit-storm", faultRateLimitStorm), ("latency", faultLatency), ("slow-body", faultSlowBody),
            ("connection-reset", faultConnectionReset), ("truncated-body", faultTruncatedBody),
            ("malformed", faultMalformed), ("duplicate-page-record", faultDuplicatePageRecord),
            ("duplicate-push", faultDuplicatePush), ("resent-new", faultResentNew),
            ("out-of-order-changes", faultOutOfOrderChanges), ("dead-endpoint", faultDeadEndpoint),
            ("silent-change", faultSilentChange), ("ot-unauthorized", faultOtUnauthorized),
            ("ot-forbidden", faultOtForbidden), ("ot-lost-ack", faultOtLostAck),
            ("ot-no-namespace", faultOtNoNamespace),
            ("ot-push-repeat", faultOtPushRepeat), ("ot-push-shuffle", faultOtPushShuffle),
            ("ot-push-early-change", faultOtPushEarlyChange), ("ot-push-status-clash", faultOtPushStatusClash),
        ]
        for (name, rate) in rates where !(0...1).contains(rate) {
            throw ValidationError("--fault-\(name) is a probability: give a number in 0...1, not \(rate)")
        }
        guard (1...2000).contains(properties) else { throw ValidationError("--properties must be in 1-2000") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0-65535") }
        guard otBatchSize >= 1 else { throw ValidationError("--ot-batch-size must be at least 1") }
        guard otPushAttempts >= 1 else { throw ValidationError("--ot-push-attempts must be at least 1") }
    }

    func makeConfiguration() throws -> SandboxConfiguration {
        var c = SandboxConfiguration()
        c.host = host
        c.port = port
        c.seed = seed
        c.propertyCount = properties
        c.initialBookingsPerProperty = initialBookings
        guard let startDate = ISO8601DateFormatter().date(from: start) else {
            throw ValidationError("--start must be an ISO-8601 UTC time like 2026-01-01T00:00:00Z")
        }
        c.startTime = startDate
        c.tickSeconds = tick > 0 ? tick : nil
        c.minimumPendingIntervalMinutes = minInterval
        c.bearerToken = token
        if let quota {
            let parts = quota.split(separator: "/")
            guard parts.count == 2, let capacity = Int(parts[0]), let refill = Double(parts[1]) else {
                throw ValidationError("--quota must be CAPACITY/REFILL_PER_SECOND, e.g. 20/5")
            }
            c.feedQuota = FeedQuota(capacity: capacity, refillPerSecond: refill)
        }
        var f = FaultSettings()
        f.serverErrorRate = faultServerError
        f.unavailableBurstRate = faultUnavailableBurst
        f.unavailableBurstLength = faultUnavailableBurstLength
        f.rateLimitStormRate = faultRateLimitStorm
        f.rateLimitStormLength = faultRateLimitStormLength
        f.retryAfterSeconds = faultRetryAfter
        f.latencyRate = faultLatency
        f.latencyMilliseconds = faultLatencyMs
        f.slowBodyRate = faultSlowBody
        f.slowBodyChunkDelayMilliseconds = faultSlowBodyDelayMs
        f.connectionResetRate = faultConnectionReset
        f.truncatedBodyRate = faultTruncatedBody
        f.malformedRecordRate = faultMalformed
        f.duplicatePageRecordRate = faultDuplicatePageRecord
        f.duplicatePushRate = faultDuplicatePush
        f.resentNewRate = faultResentNew
        f.outOfOrderChangesRate = faultOutOfOrderChanges
        f.deadEndpointRate = faultDeadEndpoint
        f.silentChangeRate = faultSilentChange
        f.otUnauthorizedRate = faultOtUnauthorized
        f.otForbiddenRate = faultOtForbidden
        f.otLostAckAnswerRate = faultOtLostAck
        f.otNoNamespaceRate = faultOtNoNamespace
        f.otPushRepeatRate = faultOtPushRepeat
        f.otPushShuffleRate = faultOtPushShuffle
        f.otPushEarlyChangeRate = faultOtPushEarlyChange
        f.otPushStatusClashRate = faultOtPushStatusClash
        c.faults = f
        if !otAccounts.isEmpty {
            c.openTravel.accounts = try otAccounts.map { try Self.parseAccount($0, propertyCount: properties) }
        }
        c.openTravel.fallbackMinutes = otFallbackMinutes
        c.openTravel.batchSize = otBatchSize
        c.openTravel.pollIntervalSeconds = otPollInterval
        c.openTravel.pollAfterAckSeconds = otPollAfterAck
        c.openTravel.tokenLifetimeSeconds = otTokenLifetime
        c.openTravel.pushMaxAttempts = otPushAttempts
        c.openTravel.pushRetryIntervalMilliseconds = otPushRetryMs
        c.openTravel.pushTimeoutSeconds = otPushTimeout
        c.webhooks = try webhooks.map(Self.parseWebhook)
        c.webhookRetry = WebhookRetryPolicy(maxAttempts: webhookAttempts, initialBackoffMilliseconds: webhookBackoffMs)
        return c
    }

    /// `user=U,password=P[,hotels=HTL001+HTL002][,basic=no]`; no hotels = every property.
    static func parseAccount(_ text: String, propertyCount: Int) throws -> OpenTravelAccount {
        var fields: [String: String] = [:]
        for field in text.split(separator: ",") {
            let pair = field.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2, ["user", "password", "hotels", "basic"].contains(pair[0]) else {
                throw ValidationError("--ot-account: \(field) must be user=, password=, hotels= or basic=")
            }
            fields[pair[0]] = pair[1]
        }
        guard let user = fields["user"], let password = fields["password"] else {
            throw ValidationError("--ot-account needs user=U,password=P")
        }
        let width = max(3, String(propertyCount).count)
        let all = (1...propertyCount).map { n in
            "HTL" + String(repeating: "0", count: max(0, width - String(n).count)) + String(n)
        }
        let hotels = fields["hotels"].map { $0.split(separator: "+").map(String.init) } ?? all
        guard let basic = ["yes": true, "no": false][fields["basic"] ?? "yes"] else {
            throw ValidationError("--ot-account basic= must be yes or no")
        }
        return OpenTravelAccount(username: user, password: password, hotels: hotels, basicAllowed: basic)
    }

    static func parseWebhook(_ text: String) throws -> WebhookRegistration {
        let fields = text.split(separator: ",").map(String.init)
        guard let first = fields.first, let eq = first.firstIndex(of: "="),
            let mode = WebhookRegistration.Mode(rawValue: String(first[..<eq]))
        else {
            throw ValidationError(
                "--webhook must start with ping=URL, push=URL, rates=URL, opentravel=URL or opentravel_ari=URL")
        }
        var r = WebhookRegistration(mode: mode, url: String(first[first.index(after: eq)...]))
        for field in fields.dropFirst() {
            let pair = field.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2 else { throw ValidationError("--webhook option \(field) must be key=value") }
            switch pair[0] {
            case "property": r.property = pair[1]
            case "format":
                guard let format = WebhookRegistration.Format(rawValue: pair[1]) else {
                    throw ValidationError("--webhook format must be json or xml")
                }
                r.format = format
            case "username": r.username = pair[1]
            case "password": r.password = pair[1]
            case "signing":
                guard let signing = WebhookRegistration.Signing(rawValue: pair[1]) else {
                    throw ValidationError("--webhook signing must be hmac or standard")
                }
                r.signing = signing
            case "secret": r.secret = pair[1]
            case "envelope":
                guard let envelope = WebhookRegistration.Envelope(rawValue: pair[1]) else {
                    throw ValidationError("--webhook envelope must be bare or soap")
                }
                r.envelope = envelope
            case "messages":
                guard let messages = WebhookRegistration.MessageStyle(rawValue: pair[1]) else {
                    throw ValidationError("--webhook messages must be notif or split")
                }
                r.messages = messages
            default: throw ValidationError("--webhook: unknown option \(pair[0])")
            }
        }
        return r
    }

    func run() async throws {
        let server = try SandboxServer(configuration: try makeConfiguration())
        let port = try await server.start()
        // Written unbuffered: scripts read the URL from a pipe while the server runs.
        let line =
            "ota-sandbox listening on http://\(host):\(port) (accounts: http://\(host):\(port)/_sandbox/accounts)\n"
        FileHandle.standardOutput.write(Data(line.utf8))
        await SignalWaiter.waitForTermination()
        await server.stop()
    }
}
