import Foundation
import HTTPClient
import OTAIngest
import OTASandbox
import PostgresClient
import Receiver
import TestSupport
import Testing

/// Pushed OpenTravel deltas reach facts.rates through serve's continuous promotion: the
/// current facts equal the sandbox's grid field by field after a flush and 150 deltas over
/// real sockets (1,000 under `make torture`), a late delta gives the versions an in-order
/// arrival gives (and an as-of read from before it does not show it), and a full refresh
/// rebuilds the same facts.
@Suite struct OpenTravelARIFactsTests {
    /// The first line where two fingerprints differ, or nil.
    static func firstDifference(_ a: [String], _ b: [String]) -> String? {
        if a == b { return nil }
        for (x, y) in zip(a, b) where x != y { return "\(x)\n\(y)" }
        return "\(a.count) lines against \(b.count)"
    }

    static func serve(_ serve: inout ServeConfig) {
        serve.openTravelBodyLimitBytes = 4 << 20
        serve.promoteInterval = .milliseconds(50)
    }

    /// Waits until continuous promotion has taken every staged rate observation (a
    /// condition on the database; the limit is a safety net, not a synchronisation).
    static func promoted(_ h: ReceiverHarness) async throws {
        try await h.receiver.waitForARIExpansion()
        try await PromotionTests.until {
            try await h.int(
                """
                select count(*)::int from staging.rate_observations o, ops.transform_state s
                where s.stream = 'rates' and not pg_visible_in_snapshot(o.landed_xid, s.seen_snapshot)
                """) == 0
        }
    }

    /// The current facts.rates rows of source cm, written as the sandbox writes its grid
    /// (one cell per hotel, room, rate and night; a price per number of guests).
    static func currentFacts(_ h: ReceiverHarness) async throws -> [OpenTravelARICellTruth] {
        let connection = try await h.db.connect()
        let rows: PostgresResult
        do {
            rows = try await connection.query(
                """
                select property_code, room_code, rate_id, stay_date::text as stay_date, adults, children, channel,
                       (price * 100)::bigint as cents, currency, tax_included, closeout, min_stay, min_stay_kind,
                       max_stay, closed_to_arrival, closed_to_departure, available, withdrawn, stream
                from facts.rates where source = 'cm' and is_current
                order by property_code, room_code, rate_id, stay_date, adults
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
            #expect(try row.decode(Int.self, column: "children") == 0)
            #expect(try row.decode(String.self, column: "channel") == "")
            #expect(try row.decode(String.self, column: "stream") == "ari")
            #expect(try row.decode(Bool.self, column: "withdrawn") == false)
            // Never set: closeout false and min_stay 1 (the columns' "none"); the kind tells them apart.
            let minStay: Int = try row.decode(column: "min_stay")
            let kind = try row.decode(String?.self, column: "min_stay_kind")
            let cell = OpenTravelARICellTruth(
                hotel: hotel, room: room, rate: rate, date: date,
                bookingLimit: try row.decode(Int?.self, column: "available"),
                stopSell: try row.decode(Bool.self, column: "closeout"),
                closedToArrival: try row.decode(Bool?.self, column: "closed_to_arrival"),
                closedToDeparture: try row.decode(Bool?.self, column: "closed_to_departure"),
                minStay: kind == nil && minStay == 1 ? nil : minStay, minStayKind: kind,
                maxStay: try row.decode(Int?.self, column: "max_stay"), prices: [])
            let price = OpenTravelARICellTruth.Price(
                guests: try row.decode(column: "adults"), cents: try row.decode(column: "cents"),
                currency: try row.decode(column: "currency"), afterTax: try row.decode(column: "tax_included"))
            if var last = cells.last, (last.hotel, last.room, last.rate, last.date) == (hotel, room, rate, date) {
                // Every occupancy of a cell carries the cell's restrictions.
                var restrictions = cell
                restrictions.prices = last.prices
                #expect(restrictions == last, "\(hotel) \(room) \(rate) \(date)")
                last.prices.append(price)
                cells[cells.count - 1] = last
            } else {
                var first = cell
                first.prices = [price]
                cells.append(first)
            }
        }
        return cells
    }

    /// The current facts.availability rows of source cm, written as the sandbox writes a
    /// room's own cells (rate "", no prices).
    static func currentAvailability(_ h: ReceiverHarness) async throws -> [OpenTravelARICellTruth] {
        let connection = try await h.db.connect()
        let rows: PostgresResult
        do {
            rows = try await connection.query(
                """
                select property_code, room_code, stay_date::text as stay_date, allotment, stop_sell, min_stay, max_stay,
                       closed_to_arrival, closed_to_departure, withdrawn, origin
                from facts.availability where source = 'cm' and is_current
                order by property_code, room_code, stay_date
                """)
        } catch {
            await connection.close()
            throw error
        }
        await connection.close()
        return try rows.map { row in
            #expect(try row.decode(Bool.self, column: "withdrawn") == false)
            #expect(try row.decode(String.self, column: "origin") == "push")
            return OpenTravelARICellTruth(
                hotel: try row.decode(column: "property_code"), room: try row.decode(column: "room_code"), rate: "",
                date: try row.decode(column: "stay_date"), bookingLimit: try row.decode(Int.self, column: "allotment"),
                stopSell: try row.decode(Bool.self, column: "stop_sell"),
                closedToArrival: try row.decode(Bool.self, column: "closed_to_arrival"),
                closedToDeparture: try row.decode(Bool.self, column: "closed_to_departure"),
                minStay: try row.decode(Int.self, column: "min_stay"),
                maxStay: try row.decode(Int.self, column: "max_stay"), prices: [])
        }
    }

    /// The sandbox's room cells (rate "") as facts.availability holds them: those with a
    /// booking limit; a field never set is the column's "none" (open, minimum stay 1, maximum
    /// stay 0), and the minimum stay's kind is not a column there.
    static func expectedAvailability(_ grid: [OpenTravelARICellTruth]) -> [OpenTravelARICellTruth] {
        grid.filter { !$0.room.isEmpty && $0.rate.isEmpty && $0.bookingLimit != nil }.map { cell in
            OpenTravelARICellTruth(
                hotel: cell.hotel, room: cell.room, rate: "", date: cell.date, bookingLimit: cell.bookingLimit,
                stopSell: cell.stopSell ?? false, closedToArrival: cell.closedToArrival ?? false,
                closedToDeparture: cell.closedToDeparture ?? false, minStay: cell.minStay ?? 1,
                maxStay: cell.maxStay ?? 0, prices: [])
        }
    }

    /// The sandbox's grid as facts.rates holds it: cells with a price and both codes; a stop
    /// sell never set is open.
    static func expected(_ grid: [OpenTravelARICellTruth]) -> [OpenTravelARICellTruth] {
        grid.filter { !$0.prices.isEmpty && !$0.room.isEmpty && !$0.rate.isEmpty }.map { cell in
            var c = cell
            c.stopSell = cell.stopSell ?? false
            return c
        }
    }

    @Test func sandboxFlushAndDeltasReachFactsEqualToTheGridFieldByField() async throws {
        try await ReceiverHarness.with(OpenTravelARIPushTests.sandbox, serve: Self.serve) { h in
            try await OpenTravelARIPushTests.seededWithSOAPPushes(h)
            var plan = OpenTravelARIPlan()
            plan.flush = true
            // Deltas within the flush's nights, so most of them change cells the flush set.
            plan.flushDays = 21
            plan.deltaHorizonDays = 21
            // 150 deltas in `make test`, to keep it in its budget: each delta's expansion takes tens
            // of milliseconds in a debug build (1,000 take about a minute), and these deltas all fall
            // on the same few hundred cells, so they repeat and overlap as 1,000 do. `make torture`
            // runs the 1,000.
            plan.deltas = Torture.trials(short: 150, full: 1_000)
            plan.unknownCodeRate = 0.05
            let started = ContinuousClock.now
            h.sandbox.pushOpenTravelARI(plan)
            await h.sandbox.waitForOpenTravelARI()
            let answered = ContinuousClock.now
            try await h.receiver.waitForARIExpansion()
            let expanded = ContinuousClock.now
            try await Self.promoted(h)
            let promoted = ContinuousClock.now
            let pushes = h.sandbox.openTravelARIPushes()
            let delivered = pushes.filter { $0.outcome == .delivered }
            #expect(delivered.count > 140)
            #expect(delivered.contains { $0.isRepeat })

            let truth = h.sandbox.openTravelARIGrid()
            let grid = Self.expected(truth)
            let facts = try await Self.currentFacts(h)
            #expect(grid.count > 500)
            #expect(facts.count == grid.count)
            let difference = zip(facts, grid).first { $0 != $1 }.map { "facts \($0.0)\nsandbox \($0.1)" }
            #expect(difference == nil, "first difference: \(difference ?? "")")
            // A room's own state (messages naming a room without a rate plan): facts.availability.
            let rooms = Self.expectedAvailability(truth)
            let availability = try await Self.currentAvailability(h)
            #expect(rooms.count > 50)
            #expect(availability.count == rooms.count)
            let roomDifference = zip(availability, rooms).first { $0 != $1 }.map { "facts \($0.0)\nsandbox \($0.1)" }
            #expect(roomDifference == nil, "first difference: \(roomDifference ?? "")")
            // Versions tile time per cell (the chain check the transforms run, asserted here too).
            #expect(
                try await h.int(
                    """
                    select count(*)::int from (
                        select valid_to, lead(valid_from) over (partition by property_code, rate_id, room_code, stay_date,
                                                               adults, children, channel, source order by valid_from) as next_from
                        from facts.rates where source = 'cm') c
                    where c.valid_to is distinct from c.next_from
                    """) == 0)

            let (incremental, refreshed) = try await PromotionTests.factsAndFullRefresh(h.db.url)
            let refreshDifference = Self.firstDifference(incremental, refreshed)
            #expect(
                refreshDifference == nil,
                "a full refresh rebuilds the facts continuous promotion built: \(refreshDifference ?? "")")
            let versions = try await h.int("select count(*)::int from facts.rates where source = 'cm'")
            print(
                "ari facts: \(delivered.count) pushes answered in \(answered - started), expanded \(expanded - answered) later, in facts \(promoted - answered) later: \(facts.count) cells, \(versions) versions"
            )
        }
    }

    static let hotel = "HTL001"

    static func rateMessage(_ time: String, room: String, rate: String, from: String, to: String, cents: Int)
        -> String
    {
        #"<OTA_HotelRateAmountNotifRQ xmlns="http://www.opentravel.org/OTA/2003/05" EchoToken="r-\#(time)-\#(from)" TimeStamp="\#(time)" Version="1.0"><RateAmountMessages HotelCode="\#(hotel)"><RateAmountMessage><StatusApplicationControl Start="\#(from)" End="\#(to)" InvTypeCode="\#(room)" RatePlanCode="\#(rate)"/><Rates><Rate><BaseByGuestAmts><BaseByGuestAmt NumberOfGuests="2" AgeQualifyingCode="10" AmountAfterTax="\#(cents / 100).\#(String(format: "%02d", cents % 100))" CurrencyCode="EUR"/></BaseByGuestAmts></Rate></Rates></RateAmountMessage></RateAmountMessages></OTA_HotelRateAmountNotifRQ>"#
    }

    /// `rate` nil: the room's every rate plan and the room itself.
    static func availMessage(_ time: String, room: String, rate: String?, from: String, to: String, inner: String)
        -> String
    {
        let plan = rate.map { #" RatePlanCode="\#($0)""# } ?? ""
        return
            #"<OTA_HotelAvailNotifRQ xmlns="http://www.opentravel.org/OTA/2003/05" EchoToken="a-\#(time)-\#(from)" TimeStamp="\#(time)" Version="1.0"><AvailStatusMessages HotelCode="\#(hotel)">\#(inner.replacingOccurrences(of: "CONTROL", with: #"<StatusApplicationControl Start="\#(from)" End="\#(to)" InvTypeCode="\#(room)"\#(plan)/>"#))</AvailStatusMessages></OTA_HotelAvailNotifRQ>"#
    }

    /// The facts.availability versions of the room's nights `from`...+1, numbered from `from`.
    static func roomVersions(_ h: ReceiverHarness, from: String) async throws -> [String] {
        try await h.strings(
            """
            select concat_ws(' ', stay_date - $1::date, valid_from at time zone 'UTC', coalesce((valid_to at time zone 'UTC')::text, '-'),
                             version, allotment, stop_sell, min_stay, max_stay, closed_to_arrival, closed_to_departure)
            from facts.availability
            where source = 'cm' and stay_date between $1::date and $1::date + 1
            order by stay_date, valid_from
            """, [from])
    }

    /// The versions of the cells of nights `from`...+1 at two guests, night numbered from
    /// `from` so two ranges compare: night, valid_from, valid_to, version and every value.
    static func versions(_ h: ReceiverHarness, from: String) async throws -> [String] {
        try await h.strings(
            """
            select concat_ws(' ', stay_date - $1::date, valid_from at time zone 'UTC', coalesce((valid_to at time zone 'UTC')::text, '-'),
                             version, price, currency, tax_included, closeout, min_stay, coalesce(min_stay_kind, '-'),
                             coalesce(max_stay::text, '-'), coalesce(closed_to_arrival::text, '-'),
                             coalesce(closed_to_departure::text, '-'), coalesce(available::text, '-'))
            from facts.rates
            where source = 'cm' and adults = 2 and stay_date between $1::date and $1::date + 1
            order by stay_date, valid_from
            """, [from])
    }

    @Test func aLateDeltaGivesTheVersionsOfInOrderArrivalAndAsOfBeforeItDoesNotShowIt() async throws {
        try await ReceiverHarness.with(OpenTravelARIPushTests.sandbox, serve: Self.serve) { h in
            try await OpenTravelARIPushTests.seeded(h)
            let codes = try await h.strings(
                "select room_code || ' ' || rate_id from dims.rate_plans where property_code = $1 order by 1 limit 1",
                [Self.hotel]
            )[0].split(separator: " ").map(String.init)
            let (room, rate) = (codes[0], codes[1])
            let (t1, t2, t3) = ("2026-01-01T00:00:01Z", "2026-01-01T00:00:02Z", "2026-01-01T00:00:03Z")
            // A price at t1, a booking limit and closed-to-arrival at t2, a maximum stay and a new
            // price at t3; the restrictions named for the room (its every rate plan, and the room
            // itself). The price is set both before and after t2: t2's state takes the one before.
            func messages(_ from: String, _ to: String) -> (String, String, String, String) {
                (
                    Self.rateMessage(t1, room: room, rate: rate, from: from, to: to, cents: 10_050),
                    Self.availMessage(
                        t2, room: room, rate: nil, from: from, to: to,
                        inner:
                            #"<AvailStatusMessage BookingLimit="5">CONTROL</AvailStatusMessage><AvailStatusMessage>CONTROL<RestrictionStatus Restriction="Arrival" Status="Close"/></AvailStatusMessage>"#
                    ),
                    Self.availMessage(
                        t3, room: room, rate: nil, from: from, to: to,
                        inner:
                            #"<AvailStatusMessage>CONTROL<LengthsOfStay><LengthOfStay MinMaxMessageType="SetMaxLOS" Time="10"/></LengthsOfStay></AvailStatusMessage>"#
                    ),
                    Self.rateMessage(t3, room: room, rate: rate, from: from, to: to, cents: 11_000)
                )
            }
            func send(_ body: String) async throws {
                let answer = try await OpenTravelARIPushTests.bare(h, body)
                #expect(OpenTravelPushTests.succeeded(answer), "\(answer.bodyText)")
            }
            // In order on nights A, A+1.
            let (inA, inB) = ("2026-03-02", "2026-03-03")
            let inOrder = messages(inA, inB)
            for body in [inOrder.0, inOrder.1, inOrder.2, inOrder.3] { try await send(body) }
            // Late on nights B, B+1: t1, t3 promoted first, then t2.
            let (lateA, lateB) = ("2026-04-06", "2026-04-07")
            let late = messages(lateA, lateB)
            try await send(late.0)
            try await send(late.2)
            try await send(late.3)
            try await Self.promoted(h)
            let beforeLate = try await Self.versions(h, from: lateA)
            #expect(beforeLate.count == 4, "\(beforeLate)")
            // The room has a maximum stay but no booking limit yet: no row.
            #expect(try await Self.roomVersions(h, from: lateA) == [])
            let asOf = try await h.strings("select now()::text")[0]
            try await send(late.1)
            try await Self.promoted(h)

            let expected = try await Self.versions(h, from: inA)
            // Each delta set its field; every other field is carried from the state before it.
            let threeVersions = (0...1).flatMap { night in
                [
                    "\(night) 2026-01-01 00:00:01 2026-01-01 00:00:02 1 100.50 EUR t f 1 - - - - -",
                    "\(night) 2026-01-01 00:00:02 2026-01-01 00:00:03 2 100.50 EUR t f 1 - - true - 5",
                    "\(night) 2026-01-01 00:00:03 - 3 110.00 EUR t f 1 - 10 true - 5",
                ]
            }
            #expect(expected == threeVersions)
            #expect(try await Self.versions(h, from: lateA) == expected)
            // The room's own state: from its first booking limit on, the late one rewriting the state after it.
            let roomExpected = try await Self.roomVersions(h, from: inA)
            let twoVersions = (0...1).flatMap { night in
                [
                    "\(night) 2026-01-01 00:00:02 2026-01-01 00:00:03 1 5 f 1 0 t f",
                    "\(night) 2026-01-01 00:00:03 - 2 5 f 1 10 t f",
                ]
            }
            #expect(roomExpected == twoVersions)
            #expect(try await Self.roomVersions(h, from: lateA) == roomExpected)

            // As of before the late delta arrived, its values are nowhere.
            let leaked = try await h.int(
                """
                select count(*)::int from feeds.rates_as_of($1::timestamptz)
                where source = 'cm' and stay_date between $2::date and $2::date + 1 and available is not null
                """, [asOf, lateA])
            #expect(leaked == 0)
            let seenNow = try await h.int(
                """
                select count(*)::int from feeds.rates_as_of(now())
                where source = 'cm' and stay_date between $1::date and $1::date + 1 and available = 5
                  and closed_to_arrival
                """, [lateA])
            #expect(seenNow == 4)

            // A price for a rate plan the hotel does not have, named without a room: its cell's room is
            // '', so it stays out of the facts (and '' is registered as no code).
            try await send(
                Self.rateMessage(t3, room: room, rate: rate, from: inA, to: inA, cents: 5_000).replacingOccurrences(
                    of: #"InvTypeCode="\#(room)" RatePlanCode="\#(rate)""#, with: #"RatePlanCode="99999""#))
            try await Self.promoted(h)
            #expect(
                try await h.int(
                    "select count(*)::int from staging.ari_latest where room_code = '' and rate_id = '99999'")
                    == 1)
            #expect(try await h.int("select count(*)::int from facts.rates where room_code = '' or rate_id = ''") == 0)
            #expect(
                try await h.int("select count(*)::int from dims.rooms where room_code = ''")
                    + h.int("select count(*)::int from dims.rate_plans where rate_id = '' or room_code = ''") == 0)

            let (incremental, refreshed) = try await PromotionTests.factsAndFullRefresh(h.db.url)
            let refreshDifference = Self.firstDifference(incremental, refreshed)
            #expect(
                refreshDifference == nil,
                "a full refresh rebuilds the facts continuous promotion built: \(refreshDifference ?? "")")
        }
    }
}
