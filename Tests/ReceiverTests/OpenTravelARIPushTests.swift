import Foundation
import HTTPClient
import OTAIngest
import OTASandbox
import PostgresClient
import Receiver
import TestSupport
import Testing

/// `POST /webhooks/opentravel/{source}/ari` against a real receiver and the sandbox's
/// ARI pushes: the expanded observations equal the sandbox's grid field by field,
/// refusals store nothing, repeats land once, and expanding again never doubles.
@Suite struct OpenTravelARIPushTests {
    static let path = "/webhooks/opentravel/cm/ari"
    /// Dims as a deployment's seeds would hold them for the sandbox's hotels: its rooms
    /// (with their capacity) and rate plans, read from the sandbox's own grid.
    /// The seeds in the warehouse, and the sandbox pushing ARI in SOAP to this serve.
    static func seededWithSOAPPushes(_ h: ReceiverHarness) async throws {
        try await seeded(h)
        let login = ReceiverHarness.openTravelLogin
        try h.sandbox.registerWebhook(
            WebhookRegistration(
                mode: .opentravelARI, url: h.baseURL + path, username: login.username, password: login.password,
                envelope: .soap))
    }

    static func seeded(_ h: ReceiverHarness) async throws {
        let connection = try await h.db.connect()
        do {
            var rooms: [String: Int] = [:]
            var rates: [String: String] = [:]
            var currencies: [String: String] = [:]
            for cell in h.sandbox.rateGrid() {
                rooms[cell.property + "\u{0}" + cell.room] = max(
                    rooms[cell.property + "\u{0}" + cell.room] ?? 0, cell.adults)
                rates[cell.property + "\u{0}" + String(cell.rateID)] = cell.room
                currencies[cell.property] = cell.currency
            }
            for (property, currency) in currencies {
                _ = try await connection.execute(
                    "insert into dims.properties (property_code, name, currency, time_zone, reporting_currency) values ($1, $1, $2, 'UTC', $2)",
                    [property, currency])
            }
            for (key, capacity) in rooms {
                let parts = key.split(separator: "\u{0}").map(String.init)
                _ = try await connection.execute(
                    "insert into dims.rooms (property_code, room_code, name, max_adults) values ($1, $2, $2, $3)",
                    [parts[0], parts[1], capacity])
            }
            for (key, room) in rates {
                let parts = key.split(separator: "\u{0}").map(String.init)
                _ = try await connection.execute(
                    "insert into dims.rate_plans (property_code, rate_id, room_code, name) values ($1, $2, $3, $2)",
                    [parts[0], parts[1], room])
            }
        } catch {
            await connection.close()
            throw error
        }
        await connection.close()
    }

    static func bare(_ h: ReceiverHarness, _ body: String, authorization: String = OpenTravelPushTests.basic)
        async throws -> HTTPClientResponse
    {
        try await h.send(
            "POST", path, headers: ["Content-Type": "text/xml; charset=utf-8", "Authorization": authorization],
            body: Array(body.utf8))
    }

    static func soapPush(_ h: ReceiverHarness, _ message: String) async throws -> HTTPClientResponse {
        let login = ReceiverHarness.openTravelLogin
        return try await h.send(
            "POST", path,
            headers: ["Content-Type": "text/xml; charset=utf-8", "SOAPAction": "\"OTA_HotelAvailNotifRQ\""],
            body: Array(OpenTravelPushTests.soap(message, username: login.username, password: login.password).utf8))
    }

    static func sandbox(_ c: inout SandboxConfiguration) {
        c.propertyCount = 2
        c.activity.newBooking = 0
        c.openTravel.pushRetryIntervalMilliseconds = 2
        c.openTravel.pushMaxAttempts = 3
        // A flush parsed by a debug build on a loaded machine can take seconds; a timeout
        // would make the sandbox retry, and the test expects first tries.
        c.openTravel.pushTimeoutSeconds = 60
    }

    /// The latest value of every field of every cell, from staging.ari_latest, as the sandbox writes its grid.
    static func latest(_ h: ReceiverHarness) async throws -> [OpenTravelARICellTruth] {
        let connection = try await h.db.connect()
        let rows: PostgresResult
        do {
            rows = try await connection.query(
                """
                select property_code, room_code, rate_id, stay_date::text as stay_date, guests, field, int_value,
                       bool_value, min_stay_kind, (price * 100)::bigint as cents, currency, tax_included
                from staging.ari_latest where source = 'cm'
                order by property_code, room_code, rate_id, stay_date, guests, field
                """)
        } catch {
            await connection.close()
            throw error
        }
        await connection.close()
        var cells: [OpenTravelARICellTruth] = []
        for row in rows {
            let (hotel, room, rate, date): (String, String, String, String) = (
                try row.decode(column: "property_code"), try row.decode(column: "room_code"),
                try row.decode(column: "rate_id"), try row.decode(column: "stay_date")
            )
            if cells.last.map({ ($0.hotel, $0.room, $0.rate, $0.date) != (hotel, room, rate, date) }) ?? true {
                cells.append(OpenTravelARICellTruth(hotel: hotel, room: room, rate: rate, date: date, prices: []))
            }
            let int = try row.decode(Int?.self, column: "int_value")
            let bool = try row.decode(Bool?.self, column: "bool_value")
            switch try row.decode(String.self, column: "field") {
            case "booking_limit": cells[cells.count - 1].bookingLimit = int
            case "stop_sell": cells[cells.count - 1].stopSell = bool
            case "closed_to_arrival": cells[cells.count - 1].closedToArrival = bool
            case "closed_to_departure": cells[cells.count - 1].closedToDeparture = bool
            case "min_stay":
                cells[cells.count - 1].minStay = int
                cells[cells.count - 1].minStayKind = try row.decode(String?.self, column: "min_stay_kind")
            case "max_stay": cells[cells.count - 1].maxStay = int
            default:
                cells[cells.count - 1].prices.append(
                    .init(
                        guests: try row.decode(column: "guests"), cents: try row.decode(column: "cents"),
                        currency: try row.decode(column: "currency"), afterTax: try row.decode(column: "tax_included")))
            }
        }
        return cells
    }

    @Test func sandboxFlushAndDeltasOverSocketsEqualTheGridFieldByField() async throws {
        try await ReceiverHarness.with(Self.sandbox, serve: { $0.openTravelBodyLimitBytes = 4 << 20 }) { h in
            try await Self.seededWithSOAPPushes(h)
            var plan = OpenTravelARIPlan()
            plan.flush = true
            // The 750-day flush has its own test; a shorter one keeps this one quick.
            plan.flushDays = 120
            plan.deltas = 120
            plan.oversize = 1
            plan.oversizeBytes = (4 << 20) + 1024
            plan.unknownCodeRate = 0.08
            let started = ContinuousClock.now
            h.sandbox.pushOpenTravelARI(plan)
            await h.sandbox.waitForOpenTravelARI()
            let answered = ContinuousClock.now
            try await h.receiver.waitForARIExpansion()
            let expanded = ContinuousClock.now
            let pushes = h.sandbox.openTravelARIPushes()
            // What the dialect refuses was never delivered; everything else was, at the first try.
            let refused: Set<OpenTravelARIFault> = [.unknownHotel, .wrongGuestCount, .oversize]
            for push in pushes {
                let expectDelivered = refused.isDisjoint(with: push.faults)
                #expect(
                    (push.outcome == .delivered) == expectDelivered && (!expectDelivered || push.attempts.count == 1),
                    "\(push)")
            }
            for fault in refused { #expect(pushes.contains { $0.faults.contains(fault) }, "\(fault)") }
            let delivered = pushes.filter { $0.outcome == .delivered }
            let repeats = delivered.filter(\.isRepeat).count
            #expect(repeats > 0)
            let messages = try await h.int("select count(*)::int from staging.ari_messages where source = 'cm'")
            #expect(messages == delivered.count - repeats)
            #expect(h.metric("opentravel_ari", "duplicate") == repeats)
            #expect(
                h.metric("opentravel_ari", "unknown_property") == 3
                    * pushes.filter { $0.faults.contains(.unknownHotel) }.count)
            #expect(h.metric("opentravel_ari", "too_large") == 3)
            // Codes the hotel lacks: kept with a warning and registered, flagged.
            let warned = delivered.filter {
                !$0.isRepeat && !$0.faults.filter { $0 == .unknownRoom || $0 == .unknownRate }.isEmpty
            }
            #expect(!warned.isEmpty)
            #expect(
                try await h.int("select count(*)::int from staging.ari_messages where cardinality(warnings) > 0")
                    == warned.count)
            #expect(try await h.int("select count(*)::int from dims.rooms where auto_registered") > 0)
            // The raw XML is the OTA document alone: the SOAP header with the password is not kept.
            #expect(try await h.int("select count(*)::int from staging.ari_messages where raw like '%Password%'") == 0)

            let grid = h.sandbox.openTravelARIGrid()
            let stored = try await Self.latest(h)
            #expect(grid.count > 1_000)
            #expect(stored.count == grid.count)
            let difference = zip(stored, grid).first { $0 != $1 }.map { "stored \($0.0)\nsandbox \($0.1)" }
            #expect(difference == nil, "first difference: \(difference ?? "")")
            let observations = try await h.int("select count(*)::int from staging.ari_observations")
            print(
                "ari: \(delivered.count) pushes (\(messages) messages) answered in \(answered - started), all expanded \(expanded - answered) later: \(observations) observations"
            )
        }
    }

    static func availFlush(hotel: String, rates: [(room: String, rate: String)], days: Int, echo: String) -> String {
        var xml =
            #"<OTA_HotelAvailNotifRQ xmlns="http://www.opentravel.org/OTA/2003/05" EchoToken="\#(echo)" TimeStamp="2026-01-01T00:00:00Z" Version="1.0"><AvailStatusMessages HotelCode="\#(hotel)">"#
        let first = CivilDate("2026-01-01")!
        for (room, rate) in rates {
            for d in 0..<days {
                let date = first.adding(days: d).description
                xml +=
                    #"<AvailStatusMessage BookingLimit="\#(d % 7)"><StatusApplicationControl Start="\#(date)" End="\#(date)" InvTypeCode="\#(room)" RatePlanCode="\#(rate)"/></AvailStatusMessage>"#
                xml +=
                    #"<AvailStatusMessage><StatusApplicationControl Start="\#(date)" End="\#(date)" InvTypeCode="\#(room)" RatePlanCode="\#(rate)"/><LengthsOfStay><LengthOfStay MinMaxMessageType="SetMinLOS" Time="\#(1 + d % 3)"/></LengthsOfStay></AvailStatusMessage>"#
            }
        }
        return xml + "</AvailStatusMessages></OTA_HotelAvailNotifRQ>"
    }

    @Test func aFlushIsAnsweredBeforeItsExpansionAndExpandingAgainLosesAndDoublesNothing() async throws {
        try await ReceiverHarness.with(Self.sandbox) { h in
            try await Self.seeded(h)
            let rates = try await h.strings(
                "select room_code || ' ' || rate_id from dims.rate_plans where property_code = 'HTL001' order by 1"
            ).map { ($0.split(separator: " ").map(String.init)[0], $0.split(separator: " ").map(String.init)[1]) }
            let body = Self.availFlush(hotel: "HTL001", rates: rates, days: 750, echo: "flush-1")
            let started = ContinuousClock.now
            let answer = try await Self.bare(h, body)
            let answeredIn = ContinuousClock.now - started
            #expect(OpenTravelPushTests.succeeded(answer), "\(answer.bodyText)")
            #expect(answer.bodyText.contains("<OTA_HotelAvailNotifRS"))
            try await h.receiver.waitForARIExpansion()
            let expandedIn = ContinuousClock.now - started
            let cells = rates.count * 750 * 2
            let count = "select count(*)::int from staging.ari_observations"
            #expect(try await h.int(count) == cells)
            print(
                "ari flush: \(body.utf8.count) bytes, \(rates.count * 750 * 2) messages: answered in \(answeredIn), expanded \(cells) observations within \(expandedIn)"
            )
            // The same message again, in SOAP as a retransmission: stored once, Success again.
            let again = body.replacingOccurrences(
                of: #"Version="1.0""#, with: #"Version="1.0" RetransmissionIndicator="true""#)
            let repeated = try await Self.soapPush(h, again)
            #expect(OpenTravelPushTests.succeeded(repeated) && repeated.bodyText.contains("<soap:Envelope"))
            #expect(try await h.int("select count(*)::int from staging.ari_messages") == 1)

            // A crash between storing and expanding leaves the message waiting with nothing
            // expanded (one transaction does both); the next expansion writes it all, once.
            let before = try await h.strings(
                "select md5(string_agg(o::text, '|' order by o::text)) from (select property_code, room_code, rate_id, stay_date, guests, field, int_value, min_stay_kind from staging.ari_observations) o"
            )
            _ = try await h.int(
                "with d as (delete from staging.ari_observations returning 1) select count(*)::int from d")
            _ = try await h.int(
                "with u as (update staging.ari_messages set expanded_at = null returning 1) select count(*)::int from u"
            )
            let connection = try await h.db.connect()
            let expandedAgain = try await OpenTravelARIExpansion.expandAll(on: connection)
            #expect(expandedAgain == 1)
            // Expanding a message whose observations are there already adds none, and hands
            // every one of them on to the files after: its last values, removed here, come back.
            let latest =
                "select coalesce(md5(string_agg(l::text, '|' order by l::text)), 'none') from (select property_code, room_code, rate_id, stay_date, guests, field, int_value, bool_value, price, message_key from staging.ari_field_latest) l"
            let latestBefore = try await h.strings(latest)
            _ = try await connection.execute("delete from staging.ari_field_latest")
            _ = try await connection.execute("update staging.ari_messages set expanded_at = null")
            #expect(try await OpenTravelARIExpansion.expandAll(on: connection) == 1)
            #expect(try await h.strings(latest) == latestBefore)
            await connection.close()
            #expect(try await h.int(count) == cells)
            let after = try await h.strings(
                "select md5(string_agg(o::text, '|' order by o::text)) from (select property_code, room_code, rate_id, stay_date, guests, field, int_value, min_stay_kind from staging.ari_observations) o"
            )
            #expect(after == before)
        }
    }

    @Test func refusalsStoreNothing() async throws {
        try await ReceiverHarness.with(Self.sandbox) { h in
            try await Self.seeded(h)
            let room = try await h.strings(
                "select room_code from dims.rooms where property_code = 'HTL001' order by room_code limit 1")[0]
            let rate = try await h.strings(
                "select rate_id from dims.rate_plans where property_code = 'HTL001' and room_code = $1 limit 1", [room])[
                    0]
            func avail(_ hotel: String, _ inner: String) -> String {
                #"<OTA_HotelAvailNotifRQ xmlns="http://www.opentravel.org/OTA/2003/05" EchoToken="e"><AvailStatusMessages HotelCode="\#(hotel)">\#(inner)</AvailStatusMessages></OTA_HotelAvailNotifRQ>"#
            }
            func rates(_ amounts: String) -> String {
                #"<OTA_HotelRateAmountNotifRQ EchoToken="r"><RateAmountMessages HotelCode="HTL001"><RateAmountMessage><StatusApplicationControl Start="2026-02-01" End="2026-02-03" InvTypeCode="\#(room)" RatePlanCode="\#(rate)"/><Rates><Rate CurrencyCode="EUR"><BaseByGuestAmts>\#(amounts)</BaseByGuestAmts></Rate></Rates></RateAmountMessage></RateAmountMessages></OTA_HotelRateAmountNotifRQ>"#
            }
            let ok =
                #"<AvailStatusMessage BookingLimit="3"><StatusApplicationControl Start="2026-02-01" End="2026-02-02" InvTypeCode="\#(room)"/></AvailStatusMessage>"#
            let cases: [(String, String, String)] = [
                (avail("HTL001", ok), "Basic " + Data("cm-push:wrong".utf8).base64EncodedString(), "4/448"),
                (avail("HTL999", ok), OpenTravelPushTests.basic, "6/392"),
                (
                    avail(
                        "HTL001",
                        #"<AvailStatusMessage><StatusApplicationControl Start="2026-02-01" End="2026-02-02"/><RestrictionStatus Status="Close"/><RestrictionStatus Restriction="Arrival" Status="Close"/></AvailStatusMessage>"#
                    ), OpenTravelPushTests.basic, "3/450"
                ),
                (
                    avail(
                        "HTL001",
                        #"<AvailStatusMessage BookingLimit="2"><StatusApplicationControl Start="2026-02-01" End="2031-02-02"/></AvailStatusMessage>"#
                    ), OpenTravelPushTests.basic, "3/450"
                ),
                (
                    rates(
                        #"<BaseByGuestAmt NumberOfGuests="1" AmountAfterTax="90"/><BaseByGuestAmt NumberOfGuests="1" AmountAfterTax="95"/>"#
                    ), OpenTravelPushTests.basic, "3/450"
                ),
                (
                    rates(#"<BaseByGuestAmt NumberOfGuests="9" AmountAfterTax="90"/>"#), OpenTravelPushTests.basic,
                    "3/450"
                ),
                ("<!DOCTYPE x [<!ENTITY a 'b'>]><x/>", OpenTravelPushTests.basic, "12/450"),
                // Hotel-wide messages of 1,100 nights each: small on the wire, millions of cells.
                (
                    avail(
                        "HTL001",
                        String(
                            repeating:
                                #"<AvailStatusMessage BookingLimit="1"><StatusApplicationControl Start="2026-01-01" End="2029-01-04"/></AvailStatusMessage>"#,
                            count: 1_000)), OpenTravelPushTests.basic, "3/450"
                ),
            ]
            for (body, authorization, expected) in cases {
                let answer = try await Self.bare(h, body, authorization: authorization)
                #expect(answer.status == 200 && OpenTravelPushTests.errors(answer) == [expected], "\(answer.bodyText)")
            }
            #expect(try await h.int("select count(*)::int from staging.ari_messages") == 0)
            // The same first message with the right login is stored, and answered in its own root.
            let stored = try await Self.bare(h, avail("HTL001", ok))
            #expect(OpenTravelPushTests.succeeded(stored) && stored.bodyText.contains(#"EchoToken="e""#))
            try await h.receiver.waitForARIExpansion()
            // A room without a rate plan: every rate plan of the room and the room itself, two nights each.
            let roomRates = try await h.int(
                "select count(*)::int from dims.rate_plans where property_code = 'HTL001' and room_code = $1", [room])
            #expect(try await h.int("select count(*)::int from staging.ari_observations") == 2 * (roomRates + 1))
            #expect(
                try await h.int(
                    "select count(*)::int from staging.ari_observations where rate_id = '' and room_code = $1", [room])
                    == 2)
        }
    }
}
