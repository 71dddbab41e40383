import Foundation

/// JSON shapes of the truth types, as the /_sandbox endpoints serve them.
extension Date {
    var isoJSON: JSONValue { .string(CivilCalendar.timestampString(seconds: Int64(timeIntervalSince1970))) }
}

extension PropertyAccount {
    var jsonValue: JSONValue {
        .object([
            "code" => .string(code), "name" => .string(name), "username" => .string(username),
            "password" => .string(password), "currency" => .string(currency), "timezone" => .string(timeZone),
            "rooms"
                => .array(
                    rooms.map {
                        .object([
                            "code" => .string($0.code), "name" => .string($0.name), "max_adults" => .int($0.maxAdults),
                            "capacity" => .int($0.capacity),
                        ])
                    }),
            "rates"
                => .array(
                    rates.map {
                        .object([
                            "id" => .int($0.id), "room" => .string($0.room), "name" => .string($0.name),
                            "board" => .string($0.board), "max_adults" => .int($0.maxAdults),
                        ])
                    }),
        ])
    }
}

extension BookingVersionTruth {
    var jsonValue: JSONValue {
        .object([
            "id" => .int(bookingID), "version" => .int(version), "property" => .string(property),
            "valid_from" => validFrom.isoJSON, "valid_to" => validTo?.isoJSON ?? .null, "ota_time" => otaTime.isoJSON,
            "event" => .string(event.rawValue), "status" => .int(status),
            "malformed" => malformation.map { .string($0.rawValue) } ?? .null, "body" => body,
        ])
    }
}

extension AvailabilityTruth {
    var jsonValue: JSONValue {
        .object([
            "property" => .string(property), "room" => .string(room), "date" => .string(date),
            "allot" => .int(allotment), "stopsell" => .int(stopSell ? 1 : 0), "minstay" => .int(minStay),
            "maxstay" => .int(maxStay), "checkin" => .int(closedToArrival ? 0 : 1),
            "checkout" => .int(closedToDeparture ? 0 : 1),
        ])
    }
}

extension RateTruth {
    var jsonValue: JSONValue {
        .object([
            "property" => .string(property), "rate_id" => .int(rateID), "room" => .string(room),
            "date" => .string(date),
            "adults" => .int(adults), "children" => .int(children), "price" => .cents(priceCents),
            "currency" => .string(currency), "extra_adult" => .cents(extraAdultCents),
            "extra_child" => .cents(extraChildCents), "closeout" => .int(closeout ? 1 : 0), "min_stay" => .int(minStay),
        ])
    }
}

extension InventoryRecordTruth {
    var jsonValue: JSONValue {
        .object([
            "id" => .string(id), "property_id" => .string(property), "room_code" => .string(room),
            "rate_plan_code" => .string(ratePlan), "stay_date" => .string(stayDate), "adults" => .int(adults),
            "price" => .cents(priceCents), "currency" => .string(currency), "available" => .int(available),
            "updated_at" => updatedAt.isoJSON,
        ])
    }
}

extension MalformedRecord {
    var jsonValue: JSONValue {
        var members: [JSONMember] = [
            "surface" => .string(surface.rawValue), "kind" => .string(kind.rawValue), "detail" => .string(detail),
            "property" => .string(property),
        ]
        if let bookingID { members.append("booking_id" => .int(bookingID)) }
        if let version { members.append("version" => .int(version)) }
        if let room { members.append("room" => .string(room)) }
        if let rateID { members.append("rate_id" => .int(rateID)) }
        if let date { members.append("date" => .string(date)) }
        if let recordID { members.append("record_id" => .string(recordID)) }
        return .object(members)
    }
}

extension SandboxStats {
    var jsonValue: JSONValue {
        func counts(_ d: [String: Int]) -> JSONValue {
            .object(d.keys.sorted().map { $0 => .int(d[$0]!) })
        }
        return .object([
            "requests" => counts(requests), "faults" => counts(faults), "violations" => counts(violations),
            "price_drifts" => .int(priceDrifts), "feed_reads" => counts(feedReads),
        ])
    }
}

extension WebhookRegistration {
    func jsonValue(id: Int) -> JSONValue {
        .object([
            "id" => .int(id), "property" => property.map { .string($0) } ?? .null, "mode" => .string(mode.rawValue),
            "url" => .string(url), "format" => .string(format.rawValue),
            "username" => username.map { .string($0) } ?? .null, "signing" => .string(signing.rawValue),
            "envelope" => .string(envelope.rawValue), "messages" => .string(messages.rawValue),
        ])
    }
}

extension WebhookDelivery {
    var jsonValue: JSONValue {
        .object([
            "id" => .int(id), "registration" => .int(registration), "mode" => .string(mode.rawValue),
            "url" => .string(url), "property" => .string(property),
            "booking_id" => bookingID.map { .int($0) } ?? .null, "type" => .string(type),
            "duplicate" => .bool(duplicate), "outcome" => .string(outcome.rawValue),
            "attempts"
                => .array(
                    attempts.map {
                        .object([
                            "status" => $0.status.map { .int($0) } ?? .null,
                            "error" => $0.error.map { .string($0) } ?? .null,
                            "dead_endpoint" => .bool($0.deadEndpoint),
                        ])
                    }),
        ])
    }
}
