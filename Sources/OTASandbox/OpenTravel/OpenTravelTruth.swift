import Foundation

/// One version of a reservation as an OpenTravel reader should understand it (the
/// field map of the dialect), for comparing a warehouse with the world.
public struct OpenTravelReservationVersionTruth: Sendable, Equatable {
    public struct Room: Sendable, Equatable {
        public var roomType: String
        public var ratePlan: String
        public var adults: Int
        public var children: Int
        /// With tax, in cents.
        public var totalCents: Int
        /// Per night (date, amount with tax in cents).
        public var nights: [(date: String, cents: Int)]

        public static func == (a: Room, b: Room) -> Bool {
            a.roomType == b.roomType && a.ratePlan == b.ratePlan && a.adults == b.adults && a.children == b.children
                && a.totalCents == b.totalCents && a.nights.map(\.date) == b.nights.map(\.date)
                && a.nights.map(\.cents) == b.nights.map(\.cents)
        }
    }

    public var id: String
    public var hotel: String
    public var version: Int
    public var event: BookingEvent
    public var validFrom: Date
    public var validTo: Date?
    public var created: Date
    public var lastModify: Date
    /// "confirmed" or "cancelled".
    public var status: String
    public var arrival: String
    public var departure: String
    public var roomType: String
    public var ratePlan: String
    public var adults: Int
    public var children: Int
    public var totalCents: Int
    public var currency: String
    /// nil: the XML names no channel (the reader uses its source's name).
    public var channel: String?
    public var rooms: [Room]
}

/// An item waiting in an OpenTravel queue.
public struct OpenTravelQueueItemTruth: Sendable, Equatable {
    public var account: String
    /// "new" or "modify".
    public var queue: String
    public var id: String
    public var hotel: String
    public var version: Int
    public var revision: Int
    public var resStatus: String?
    public var queuedAt: Date
    public var changedAt: Date
    public var servedRevision: Int?
    public var fallbackAt: Date?
}

/// One POST to a queue path, what it asked for and what it did.
public struct OpenTravelAckTruth: Sendable, Equatable {
    public struct Line: Sendable, Equatable {
        public var id: String
        /// removed, not_queued, stale, or kept (fresh, but in a stale body: not applied).
        public var result: String
        public var version: Int?
        public var lastModify: Date?
    }

    public var seq: Int
    public var account: String?
    public var queue: String
    public var at: Date
    public var wallMilliseconds: Int64
    public var http: Int
    /// applied, stale, not_processed, unauthorized, forbidden, server_error, bad_request.
    public var outcome: String
    /// sent, connection_reset or truncated (the answer was lost; the ack was applied).
    public var answer: String
    public var lines: [Line]
}

/// An item that waited the fallback time unacknowledged (the property was "emailed").
public struct OpenTravelFallbackTruth: Sendable, Equatable {
    public var account: String
    public var queue: String
    public var id: String
    public var hotel: String
    public var version: Int
    public var queuedAt: Date
    public var fallbackAt: Date
}

/// GETs per account and queue, and those that came too fast.
public struct OpenTravelPollTruth: Sendable, Equatable {
    public struct TooFast: Sendable, Equatable {
        public var account: String
        public var queue: String
        public var wallMilliseconds: Int64
        public var gapMilliseconds: Int
        public var requiredMilliseconds: Int
    }

    /// account -> queue ("new"/"modify") -> GETs.
    public var gets: [String: [String: Int]]
    public var tooFast: [TooFast]
}

private func date(_ seconds: Int64) -> Date { Date(timeIntervalSince1970: TimeInterval(seconds)) }

private func stamp(_ d: Date) -> JSONValue {
    .string(CivilCalendar.timestampString(seconds: Int64(d.timeIntervalSince1970)))
}

extension WorldState {
    func openTravelReservations(hotel code: String?) -> [OpenTravelReservationVersionTruth] {
        var result: [OpenTravelReservationVersionTruth] = []
        let start = openTravel.startTime
        for p in layout.properties.indices where code == nil || layout.properties[p].code == code {
            for id in bookingIDsByProperty[p] {
                let versions = bookings[id]!.versions
                guard versions.contains(where: { $0.validFrom >= start }) else { continue }
                for (i, v) in versions.enumerated() {
                    let b = v.body
                    let rooms = b.rooms.map { room in
                        OpenTravelReservationVersionTruth.Room(
                            roomType: b.roomType, ratePlan: String(b.rateID), adults: room.adults,
                            children: room.children, totalCents: room.nightlyCents.reduce(0, +),
                            nights: room.nightlyCents.enumerated().map {
                                (CivilCalendar.dateString(days: b.arrivalDay + $0), $1)
                            })
                    }
                    result.append(
                        OpenTravelReservationVersionTruth(
                            id: String(id), hotel: b.property, version: i + 1, event: v.event,
                            validFrom: date(v.validFrom), validTo: v.validTo.map(date), created: date(b.bookDate),
                            lastModify: date(b.otaTime), status: b.confirmed ? "confirmed" : "cancelled",
                            arrival: CivilCalendar.dateString(days: b.arrivalDay),
                            departure: CivilCalendar.dateString(days: b.departureDay), roomType: b.roomType,
                            ratePlan: String(b.rateID), adults: rooms.reduce(0) { $0 + $1.adults },
                            children: rooms.reduce(0) { $0 + $1.children }, totalCents: b.roomsWithTaxCents,
                            currency: b.currency, channel: OpenTravelReservationXML.channel(b), rooms: rooms))
                }
            }
        }
        return result
    }

    func openTravelQueues(account name: String?) -> [OpenTravelQueueItemTruth] {
        var result: [OpenTravelQueueItemTruth] = []
        for (a, account) in openTravel.accounts.enumerated() where name == nil || account.username == name {
            for queue in OpenTravelQueue.allCases {
                let items = openTravel.state[a].items[queue]!.values.sorted {
                    ($0.queuedAt, $0.id) < ($1.queuedAt, $1.id)
                }
                for item in items {
                    result.append(
                        OpenTravelQueueItemTruth(
                            account: account.username, queue: queue.rawValue, id: String(item.id),
                            hotel: layout.properties[item.hotel].code, version: item.version, revision: item.revision,
                            resStatus: item.resStatus, queuedAt: date(item.queuedAt), changedAt: date(item.changedAt),
                            servedRevision: openTravel.state[a].served[queue]![item.id],
                            fallbackAt: item.fallbackAt.map(date)))
                }
            }
        }
        return result
    }

    func openTravelAcks(account name: String?) -> [OpenTravelAckTruth] {
        openTravel.acks.compactMap { record in
            let account = record.account.map { openTravel.accounts[$0].username }
            guard name == nil || account == name else { return nil }
            return OpenTravelAckTruth(
                seq: record.seq, account: account, queue: record.queue.rawValue, at: date(record.at),
                wallMilliseconds: record.wallMilliseconds, http: record.http, outcome: record.outcome,
                answer: record.answer,
                lines: record.lines.map {
                    .init(
                        id: String($0.id), result: $0.result, version: $0.version, lastModify: $0.lastModify.map(date))
                })
        }
    }

    func openTravelFallbacks() -> [OpenTravelFallbackTruth] {
        openTravel.fallbacks.map {
            OpenTravelFallbackTruth(
                account: openTravel.accounts[$0.account].username, queue: $0.queue.rawValue, id: String($0.id),
                hotel: layout.properties[$0.hotel].code, version: $0.version, queuedAt: date($0.queuedAt),
                fallbackAt: date($0.fallbackAt))
        }
    }

    func openTravelPolls() -> OpenTravelPollTruth {
        var gets: [String: [String: Int]] = [:]
        for (a, account) in openTravel.accounts.enumerated() {
            gets[account.username] = Dictionary(
                uniqueKeysWithValues: OpenTravelQueue.allCases.map { ($0.rawValue, openTravel.state[a].gets[$0] ?? 0) })
        }
        return OpenTravelPollTruth(
            gets: gets,
            tooFast: openTravel.tooFastPolls.map {
                .init(
                    account: openTravel.accounts[$0.account].username, queue: $0.queue.rawValue,
                    wallMilliseconds: $0.wallMilliseconds, gapMilliseconds: $0.gapMilliseconds,
                    requiredMilliseconds: $0.requiredMilliseconds)
            })
    }
}

// MARK: JSON

extension OpenTravelReservationVersionTruth {
    var jsonValue: JSONValue {
        .object([
            "version" => .int(version), "event" => .string(event.rawValue), "valid_from" => stamp(validFrom),
            "valid_to" => validTo.map(stamp) ?? .null, "created" => stamp(created), "last_modify" => stamp(lastModify),
            "status" => .string(status), "arrival" => .string(arrival), "departure" => .string(departure),
            "room_type" => .string(roomType), "rate_plan" => .string(ratePlan), "adults" => .int(adults),
            "children" => .int(children), "total" => .cents(totalCents), "currency" => .string(currency),
            "channel" => channel.map { .string($0) } ?? .null,
            "rooms"
                => .array(
                    rooms.map { room in
                        .object([
                            "room_type" => .string(room.roomType), "rate_plan" => .string(room.ratePlan),
                            "adults" => .int(room.adults), "children" => .int(room.children),
                            "total" => .cents(room.totalCents),
                            "nights"
                                => .array(
                                    room.nights.map {
                                        .object(["date" => .string($0.date), "amount" => .cents($0.cents)])
                                    }),
                        ])
                    }),
        ])
    }

    /// Versions grouped by reservation, in order.
    static func grouped(_ versions: [OpenTravelReservationVersionTruth]) -> JSONValue {
        var groups: [JSONValue] = []
        var i = 0
        while i < versions.count {
            var j = i
            while j < versions.count && versions[j].id == versions[i].id { j += 1 }
            groups.append(
                .object([
                    "id" => .string(versions[i].id), "hotel" => .string(versions[i].hotel),
                    "versions" => .array(versions[i..<j].map(\.jsonValue)),
                ]))
            i = j
        }
        return .array(groups)
    }
}

extension OpenTravelQueueItemTruth {
    var jsonValue: JSONValue {
        .object([
            "id" => .string(id), "hotel" => .string(hotel), "version" => .int(version), "revision" => .int(revision),
            "res_status" => resStatus.map { .string($0) } ?? .null, "queued_at" => stamp(queuedAt),
            "changed_at" => stamp(changedAt), "served_revision" => servedRevision.map { .int($0) } ?? .null,
            "fallback_at" => fallbackAt.map(stamp) ?? .null,
        ])
    }
}

extension OpenTravelAckTruth {
    var jsonValue: JSONValue {
        .object([
            "seq" => .int(seq), "account" => account.map { .string($0) } ?? .null, "queue" => .string(queue),
            "at" => stamp(at), "wall_ms" => .int(Int(wallMilliseconds)), "http" => .int(http),
            "outcome" => .string(outcome), "answer" => .string(answer),
            "ids"
                => .array(
                    lines.map {
                        .object([
                            "id" => .string($0.id), "result" => .string($0.result),
                            "version" => $0.version.map { .int($0) } ?? .null,
                            "last_modify" => $0.lastModify.map(stamp) ?? .null,
                        ])
                    }),
        ])
    }
}

extension OpenTravelFallbackTruth {
    var jsonValue: JSONValue {
        .object([
            "account" => .string(account), "queue" => .string(queue), "id" => .string(id), "hotel" => .string(hotel),
            "version" => .int(version), "queued_at" => stamp(queuedAt), "fallback_at" => stamp(fallbackAt),
        ])
    }
}

extension OpenTravelPollTruth {
    var jsonValue: JSONValue {
        .object([
            "gets"
                => .object(
                    gets.keys.sorted().map { account in
                        account => .object(gets[account]!.keys.sorted().map { $0 => .int(gets[account]![$0]!) })
                    }),
            "too_fast"
                => .array(
                    tooFast.map {
                        .object([
                            "account" => .string($0.account), "queue" => .string($0.queue),
                            "wall_ms" => .int(Int($0.wallMilliseconds)), "gap_ms" => .int($0.gapMilliseconds),
                            "required_ms" => .int($0.requiredMilliseconds),
                        ])
                    }),
        ])
    }
}

extension OpenTravelPushTruth {
    var jsonValue: JSONValue {
        .object([
            "id" => .int(id), "registration" => .int(registration), "hotel" => .string(hotel),
            "reservation" => .string(reservation), "version" => .int(version), "event" => .string(event.rawValue),
            "root" => .string(root), "res_status" => resStatus.map { .string($0) } ?? .null,
            "inner_res_status" => innerResStatus.map { .string($0) } ?? .null, "echo_token" => .string(echoToken),
            "sequence" => .int(sequence), "namespace" => .bool(namespace), "envelope" => .string(envelope),
            "repeat" => .bool(isRepeat), "retransmission_repeat" => .bool(retransmissionRepeat),
            "early" => .bool(early), "outcome" => .string(outcome.rawValue),
            "attempts"
                => .array(
                    attempts.map {
                        .object([
                            "status" => $0.status.map { .int($0) } ?? .null, "delivered" => .bool($0.delivered),
                            "retransmission" => .bool($0.retransmission),
                            "error" => $0.error.map { .string($0) } ?? .null, "dead_endpoint" => .bool($0.deadEndpoint),
                        ])
                    }),
        ])
    }
}
