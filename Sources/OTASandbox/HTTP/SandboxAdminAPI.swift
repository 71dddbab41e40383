import Foundation
import Hummingbird

/// The /_sandbox endpoints: accounts, clock, truth, stats, faults and webhooks.
/// They are for tests and demos, so they have no auth and no faults.
struct SandboxAdminAPI: Sendable {
    let core: SandboxCore

    private func ok(_ value: JSONValue) -> Response {
        ResponseMaking.json(value.serialized)
    }

    private func fail(_ status: HTTPResponse.Status, _ message: String) -> Response {
        ResponseMaking.json(JSONValue.object(["error" => .string(message)]).serialized, status: status)
    }

    private var nowJSON: JSONValue {
        .string(CivilCalendar.timestampString(seconds: core.world.withLock { $0.now }))
    }

    func respond(to request: Request) async -> Response {
        let path = request.uri.path
        let query = Dictionary(
            request.uri.queryParameters.map { (String($0.key), String($0.value)) }, uniquingKeysWith: { $1 })
        let get = request.method == .get
        let post = request.method == .post
        core.countRequest("\(request.method.rawValue) \(path)")
        switch path {
        case "/_sandbox/accounts" where get:
            return ok(
                .object([
                    "base_url" => core.baseURL.withLock { $0 }.map { .string($0) } ?? .null,
                    "feed"
                        => .object([
                            "path" => .string("/v2/inventory"), "token" => .string(core.configuration.bearerToken),
                        ]),
                    "properties" => .array(core.world.withLock { $0.accounts() }.map(\.jsonValue)),
                    "opentravel" => openTravelAccounts(),
                ]))
        case "/_sandbox/advance" where post:
            guard let minutes = query["minutes"].flatMap({ Int($0) }), minutes >= 0, minutes <= 525_600 else {
                return fail(.badRequest, "minutes must be an integer in 0-525600")
            }
            core.advance(minutes: minutes)
            return ok(.object(["now" => nowJSON]))
        case "/_sandbox/clock" where get:
            return ok(.object(["now" => nowJSON]))
        case "/_sandbox/truth" where get, "/_sandbox/truth/clock" where get:
            return ok(truthSummary())
        case "/_sandbox/truth/bookings" where get:
            let (versions, resent, silent) = core.world.withLock { state in
                (state.bookingVersions(property: query["property"]), state.resentNew, state.silentChanges)
            }
            let changeJSON: (ResentNew) -> JSONValue = {
                .object([
                    "id" => .int($0.id), "property" => .string(core.layout.properties[$0.property].code),
                    "time" => .string(CivilCalendar.timestampString(seconds: $0.time)),
                ])
            }
            return ok(
                .object([
                    "now" => nowJSON, "versions" => .array(versions.map(\.jsonValue)),
                    "resent_new"
                        => .array(
                            resent.map {
                                .object([
                                    "id" => .int($0.id),
                                    "property" => .string(core.layout.properties[$0.property].code),
                                    "time" => .string(CivilCalendar.timestampString(seconds: $0.time)),
                                ])
                            }),
                    "silent_changes" => .array(silent.map(changeJSON)),
                ]))
        case "/_sandbox/truth/availability" where get, "/_sandbox/truth/rates" where get:
            guard let nights = nightRange(query) else {
                return fail(.badRequest, "from and to must be dates (YYYY-MM-DD), from <= to")
            }
            let cells: [JSONValue] = core.world.withLock { state in
                path.hasSuffix("availability")
                    ? state.availability(property: query["property"], nights: nights).map(\.jsonValue)
                    : state.rates(property: query["property"], nights: nights).map(\.jsonValue)
            }
            return ok(.object(["now" => nowJSON, "cells" => .array(cells)]))
        case "/_sandbox/truth/inventory" where get:
            let records = core.world.withLock { $0.inventory(property: query["property"]) }
            return ok(.object(["now" => nowJSON, "records" => .array(records.map(\.jsonValue))]))
        case "/_sandbox/truth/malformed" where get:
            let records = core.world.withLock { $0.malformedRecords() }
            return ok(.object(["now" => nowJSON, "records" => .array(records.map(\.jsonValue))]))
        case "/_sandbox/truth/fetches" where get:
            let fetches = core.counters.withLock { $0.bookingFetches }
            return ok(
                .object([
                    "now" => nowJSON,
                    "fetches"
                        => .array(
                            fetches.keys.sorted().map { id in
                                .object([
                                    "id" => .int(id),
                                    "served" => .array(fetches[id]!.map { .string($0?.rawValue ?? "clean") }),
                                ])
                            }),
                ]))
        case "/_sandbox/truth/queue" where get:
            return ok(queueTruth(property: query["property"]))
        case "/_sandbox/truth/opentravel/reservations" where get:
            let versions = core.world.withLock { $0.openTravelReservations(hotel: query["hotel"]) }
            return ok(
                .object(["now" => nowJSON, "reservations" => OpenTravelReservationVersionTruth.grouped(versions)]))
        case "/_sandbox/truth/opentravel/queues" where get:
            return ok(openTravelQueues(account: query["account"]))
        case "/_sandbox/truth/opentravel/acks" where get:
            let acks = core.world.withLock { $0.openTravelAcks(account: query["account"]) }
            return ok(.object(["now" => nowJSON, "acks" => .array(acks.map(\.jsonValue))]))
        case "/_sandbox/truth/opentravel/fallbacks" where get:
            let fallbacks = core.world.withLock { $0.openTravelFallbacks() }
            return ok(.object(["now" => nowJSON, "fallbacks" => .array(fallbacks.map(\.jsonValue))]))
        case "/_sandbox/truth/opentravel/polls" where get:
            return ok(core.world.withLock { $0.openTravelPolls() }.jsonValue)
        case "/_sandbox/truth/opentravel/pushes" where get:
            return ok(
                .object(["now" => nowJSON, "pushes" => .array(core.openTravelPushes.deliveries.map(\.jsonValue))]))
        case "/_sandbox/truth/opentravel/ari" where get:
            let cells = core.openTravelARI.grid(
                registration: query["registration"].flatMap { Int($0) }, hotel: query["hotel"])
            return ok(.object(["now" => nowJSON, "cells" => .array(cells.map(\.jsonValue))]))
        case "/_sandbox/truth/opentravel/ari/pushes" where get:
            return ok(.object(["now" => nowJSON, "pushes" => .array(core.openTravelARI.deliveries.map(\.jsonValue))]))
        case "/_sandbox/opentravel/ari" where post:
            guard let object = await jsonObject(request) else { return fail(.badRequest, "body must be a JSON object") }
            do {
                let queued = core.pushOpenTravelARI(try Self.ariPlan(from: object))
                return ok(.object(["queued" => .int(queued)]))
            } catch {
                return fail(.badRequest, "\(error)")
            }
        case "/_sandbox/opentravel/tokens/revoke" where post:
            let count = core.world.withLock { state -> Int in
                defer { state.openTravel.tokens = [:] }
                return state.openTravel.tokens.count
            }
            return ok(.object(["revoked" => .int(count)]))
        case "/_sandbox/stats" where get:
            return ok(SandboxServer.stats(core).jsonValue)
        case "/_sandbox/faults" where get:
            return ok(core.faults.jsonValue)
        case "/_sandbox/faults" where post:
            guard let object = await jsonObject(request) else { return fail(.badRequest, "body must be a JSON object") }
            do {
                let updated = try FaultSettings.merging(object, into: core.faults)
                core.world.withLock { $0.faults = updated }
                return ok(updated.jsonValue)
            } catch let error as FaultUpdateError {
                return fail(.badRequest, "unknown fault or not a number: \(error.field)")
            } catch {
                return fail(.badRequest, "\(error)")
            }
        case "/_sandbox/webhooks" where get:
            return ok(.array(core.webhooks.registrations.enumerated().map { $1.jsonValue(id: $0 + 1) }))
        case "/_sandbox/webhooks" where post:
            guard let object = await jsonObject(request) else { return fail(.badRequest, "body must be a JSON object") }
            do {
                let registration = try Self.registration(from: object)
                let id = try core.webhooks.register(registration, layout: core.layout)
                return ok(registration.jsonValue(id: id))
            } catch {
                return fail(.badRequest, "\(error)")
            }
        case "/_sandbox/webhooks/deliveries" where get:
            return ok(.array(core.webhooks.deliveries.map(\.jsonValue)))
        default:
            return fail(.notFound, "no such sandbox endpoint: \(request.method.rawValue) \(path)")
        }
    }

    private func truthSummary() -> JSONValue {
        core.world.withLock { state in
            .object([
                "now" => .string(CivilCalendar.timestampString(seconds: state.now)),
                "first_stay_date" => .string(CivilCalendar.dateString(days: state.layout.firstDay)),
                "last_stay_date"
                    => .string(CivilCalendar.dateString(days: state.layout.firstDay + state.layout.dayCount - 1)),
                "violations"
                    => .object(
                        state.layout.properties.enumerated().map { $1.code => .int(state.violations[$0]) }),
                "bookings" => .int(state.bookings.count),
                "feed_versions" => .int(state.feed.versions.count),
            ])
        }
    }

    private func openTravelAccounts() -> JSONValue {
        let accounts = core.world.withLock { state in
            state.openTravel.accounts.enumerated().map { a, account in
                (account, state.openTravel.connected[a].sorted().map { state.layout.properties[$0].code })
            }
        }
        return .object([
            "base_url" => core.baseURL.withLock { $0 }.map { .string($0 + "/hotels/ota") } ?? .null,
            "accounts"
                => .array(
                    accounts.map { account, hotels in
                        .object([
                            "username" => .string(account.username), "password" => .string(account.password),
                            "hotels" => .array(hotels.map { .string($0) }),
                            "basic_allowed" => .bool(account.basicAllowed),
                        ])
                    }),
        ])
    }

    private func openTravelQueues(account: String?) -> JSONValue {
        let (items, names) = core.world.withLock {
            ($0.openTravelQueues(account: account), $0.openTravel.accounts.map(\.username))
        }
        return .object([
            "now" => nowJSON,
            "accounts"
                => .object(
                    names.filter { account == nil || $0 == account }.map { name in
                        name
                            => .object(
                                OpenTravelQueue.allCases.map { queue in
                                    queue.rawValue
                                        => .array(
                                            items.filter { $0.account == name && $0.queue == queue.rawValue }.map(
                                                \.jsonValue))
                                })
                    }),
        ])
    }

    private func queueTruth(property code: String?) -> JSONValue {
        core.world.withLock { state in
            .object(
                state.layout.properties.indices.filter { code == nil || state.layout.properties[$0].code == code }.map {
                    p in
                    state.layout.properties[p].code
                        => .array(
                            state.queues[p].values.sorted { ($0.timestamp, $0.id) < ($1.timestamp, $1.id) }.map {
                                .object([
                                    "id" => .int($0.id),
                                    "timestamp" => .string(CivilCalendar.timestampString(seconds: $0.timestamp)),
                                    "syncType" => .string($0.syncType), "listed" => .bool($0.listed),
                                ])
                            })
                })
        }
    }

    private func nightRange(_ query: [String: String]) -> Range<Int>? {
        let layout = core.layout
        let first = query["from"].map { CivilCalendar.parseDate($0) } ?? layout.firstDay
        let last = query["to"].map { CivilCalendar.parseDate($0) } ?? layout.firstDay + layout.dayCount - 1
        guard let first, let last, first <= last else { return nil }
        let lower = max(0, first - layout.firstDay)
        let upper = min(layout.dayCount, last - layout.firstDay + 1)
        return lower < upper ? lower..<upper : 0..<0
    }

    private func jsonObject(_ request: Request) async -> [String: Any]? {
        guard let buffer = try? await request.body.collect(upTo: 1 << 20) else { return nil }
        return (try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView))) as? [String: Any]
    }

    /// `{"flush": true, "deltas": 200, "hotel": "HTL001", "oversize": 1, ...}`: every
    /// member of `OpenTravelARIPlan`, in snake case, optional.
    static func ariPlan(from object: [String: Any]) throws -> OpenTravelARIPlan {
        var plan = OpenTravelARIPlan()
        for (key, value) in object {
            let number = value as? NSNumber
            func int() throws -> Int {
                guard let number, number.doubleValue >= 0, number.doubleValue == number.doubleValue.rounded() else {
                    throw OpenTravelARIPlanError(message: "\(key) must be a whole number, 0 or more")
                }
                return number.intValue
            }
            func rate() throws -> Double {
                guard let number, (0...1).contains(number.doubleValue) else {
                    throw OpenTravelARIPlanError(message: "\(key) must be a number in 0-1")
                }
                return number.doubleValue
            }
            switch key {
            case "flush":
                guard let flag = value as? Bool else {
                    throw OpenTravelARIPlanError(message: "flush must be true or false")
                }
                plan.flush = flag
            case "hotel":
                guard let hotel = value as? String else {
                    throw OpenTravelARIPlanError(message: "hotel must be a string")
                }
                plan.hotel = hotel
            case "flush_days": plan.flushDays = min(try int(), 1_000)
            case "deltas": plan.deltas = min(try int(), 100_000)
            case "delta_horizon_days": plan.deltaHorizonDays = max(1, min(try int(), 1_000))
            case "oversize": plan.oversize = min(try int(), 10)
            case "oversize_bytes": plan.oversizeBytes = min(try int(), 64 << 20)
            case "unknown_code_rate": plan.unknownCodeRate = try rate()
            case "unknown_hotel_rate": plan.unknownHotelRate = try rate()
            case "wrong_guest_count_rate": plan.wrongGuestCountRate = try rate()
            case "repeat_rate": plan.repeatRate = try rate()
            default: throw OpenTravelARIPlanError(message: "unknown ARI plan member: \(key)")
            }
        }
        return plan
    }

    static func registration(from object: [String: Any]) throws -> WebhookRegistration {
        func text(_ key: String) -> String? { object[key] as? String }
        guard let modeText = text("mode"), let mode = WebhookRegistration.Mode(rawValue: modeText.lowercased()) else {
            throw WebhookRegistrationError(message: "mode must be ping, push, rates, opentravel or opentravel_ari")
        }
        guard let url = text("url") else { throw WebhookRegistrationError(message: "url is required") }
        let format =
            try text("format").map {
                guard let f = WebhookRegistration.Format(rawValue: $0.lowercased()) else {
                    throw WebhookRegistrationError(message: "format must be json or xml")
                }
                return f
            } ?? .json
        let signing =
            try text("signing").map {
                guard let s = WebhookRegistration.Signing(rawValue: $0.lowercased()) else {
                    throw WebhookRegistrationError(message: "signing must be hmac or standard")
                }
                return s
            } ?? .hmac
        let envelope =
            try text("envelope").map {
                guard let e = WebhookRegistration.Envelope(rawValue: $0.lowercased()) else {
                    throw WebhookRegistrationError(message: "envelope must be bare or soap")
                }
                return e
            } ?? .bare
        let messages =
            try text("messages").map {
                guard let m = WebhookRegistration.MessageStyle(rawValue: $0.lowercased()) else {
                    throw WebhookRegistrationError(message: "messages must be notif or split")
                }
                return m
            } ?? .notif
        return WebhookRegistration(
            property: text("property"), mode: mode, url: url, format: format, username: text("username"),
            password: text("password"), signing: signing, secret: text("secret") ?? "", envelope: envelope,
            messages: messages)
    }
}
