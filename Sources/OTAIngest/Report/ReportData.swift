import Foundation
import PostgresClient

/// What the report shows, read from the documented feeds and tables only (feeds.booking_pace_as_of,
/// feeds.rates_as_of, feeds.property_health, feeds.psi_history, recon.drift_metrics, ops.runs,
/// ops.dead_letters): the report draws their figures, it never computes one of its own.
public struct ReportData: Sendable {
    public struct PaceDay: Sendable {
        public var stayDate: String
        public var day: Int
        public var onTheBooks: Double
        public var sevenDaysAgo: Double
        public var thirtyDaysAgo: Double
        public var lastYear: Double
        public var revenue: Double
        public var lastYearRevenue: Double
        /// Net revenue per room night; nil with nothing on the books.
        public var adr: Double?
    }

    public struct RateCell: Sendable {
        public var plan: String
        public var stayDate: String
        public var day: Int
        public var price: Double
        public var closed: Bool
    }

    public struct DriftPoint: Sendable {
        public var scope: String
        public var comparedAt: Date
        public var share: Double
        public var threshold: Double?
        public var breached: Bool
        public var afterRepair: Bool
    }

    public struct StepDuration: Sendable {
        public var night: String
        public var day: Int
        public var step: String
        public var seconds: Double
    }

    public struct NightCounts: Sendable {
        public var night: String
        public var day: Int
        public var deadLetters: Double
        public var retries: Double
        public var rateLimited: Double
    }

    public struct PSIPoint: Sendable {
        public var scope: String
        public var takenAt: Date
        public var psi: Double
    }

    public var asOf: Date
    public var property: String?
    public var days: Int
    public var currency: String
    public var pace: [PaceDay] = []
    public var rateProperty: String?
    public var rates: [RateCell] = []
    public var drift: [DriftPoint] = []
    /// feeds.property_health as the columns it prints, in order.
    public var healthColumns: [String] = []
    public var health: [[String]] = []
    public var steps: [StepDuration] = []
    public var nights: [NightCounts] = []
    public var psi: [PSIPoint] = []
    public var psiWatch = 0.1
    public var psiRetrain = 0.25

    /// Why there is no report: the property is unknown, or nothing was loaded by `asOf`.
    public struct Refusal: UserFacingError {
        public var description: String
        public var exitStatus: ExitStatus { .usage }
    }

    /// Reads every section. Throws `Refusal` for an unknown property or an `asOf` before
    /// anything was loaded; an empty warehouse gives empty sections (the page says so).
    public static func read(asOf: Date, property: String?, days: Int, on connection: PostgresConnection)
        async throws -> ReportData
    {
        if let property {
            let known = try await connection.query(
                "select 1 from dims.properties where property_code = $1", [property])
            guard !known.isEmpty else {
                throw Refusal(
                    description:
                        "report: property \(property) is not in dims.properties; fix: pass a code `ota-ingest status` lists, or leave out --property"
                )
            }
        }
        let first = try await connection.query(
            """
            select least((select min(loaded_at) from facts.reservations where $1::text is null or property_code = $1),
                         (select min(loaded_at) from facts.rates where $1::text is null or property_code = $1),
                         (select min(loaded_at) from facts.availability where $1::text is null or property_code = $1))
            """, [property]
        ).first?.decode(Date?.self, at: 0)
        if let first, asOf < first {
            throw Refusal(
                description:
                    "report: --as-of \(Timestamps.format(asOf)) is before anything was loaded (the first fact was loaded \(Timestamps.format(first))); fix: pass a later --as-of, or leave it out for now"
            )
        }
        var data = ReportData(asOf: asOf, property: property, days: days, currency: "")
        try await data.readPace(on: connection)
        try await data.readRates(on: connection)
        try await data.readDrift(on: connection)
        try await data.readHealth(on: connection)
        try await data.readNights(on: connection)
        try await data.readPSI(on: connection)
        return data
    }

    /// Rooms on the books per stay date for the next `days` days, now, 7 and 30 days ago and
    /// last year (weekday-aligned), summed over the properties in the reporting currency. Late
    /// loads count (include_late): last year's books, loaded by a backfill this year, are
    /// placed by OTA time as the hotel had them then.
    mutating func readPace(on connection: PostgresConnection) async throws {
        let rows = try await connection.query(
            """
            select p.stay_date::text as stay_date, (p.stay_date - date '1970-01-01') as day,
                   sum(p.room_nights)::float8 as now, sum(p.room_nights - p.pickup_7d)::float8 as d7,
                   sum(p.room_nights - p.pickup_30d)::float8 as d30, sum(p.ly_room_nights)::float8 as ly,
                   sum(p.revenue_net_rc)::float8 as revenue, sum(p.ly_revenue_net_rc)::float8 as ly_revenue,
                   (sum(p.revenue_net_rc) / nullif(sum(p.room_nights), 0))::float8 as adr,
                   string_agg(distinct p.reporting_currency, ', ') as currency
            from feeds.booking_pace_as_of($1, ($1 at time zone 'UTC')::date, ($1 at time zone 'UTC')::date + $2::int, $3, true) p
            group by p.stay_date
            order by p.stay_date
            """, [asOf, days, property])
        pace = try rows.map { row in
            PaceDay(
                stayDate: try row.decode(column: "stay_date"), day: try row.decode(column: "day"),
                onTheBooks: try row.decode(column: "now"), sevenDaysAgo: try row.decode(column: "d7"),
                thirtyDaysAgo: try row.decode(column: "d30"), lastYear: try row.decode(column: "ly"),
                revenue: try row.decode(column: "revenue"), lastYearRevenue: try row.decode(column: "ly_revenue"),
                adr: try row.decode(column: "adr"))
        }
        let currencies = Set(try rows.compactMap { try $0.decode(String?.self, column: "currency") })
        currency = currencies.sorted().joined(separator: ", ")
    }

    /// The rate calendar of one property (the one asked for, else the first with rates): the
    /// lowest current price per room and rate plan and stay date, and whether the night is closed.
    mutating func readRates(on connection: PostgresConnection) async throws {
        rateProperty =
            try await connection.query(
                """
                select property_code from facts.rates
                where ($1::text is null or property_code = $1) and loaded_at <= $2
                order by property_code limit 1
                """, [property, asOf]
            ).first?.decode(String.self, at: 0)
        guard let rateProperty else { return }
        rates = try await connection.query(
            """
            select r.room_code || ' / ' || r.rate_id as plan, r.stay_date::text as stay_date,
                   (r.stay_date - date '1970-01-01') as day, min(r.price)::float8 as price, bool_or(r.closeout) as closed
            from feeds.rates_as_of($1) r
            where r.property_code = $2 and r.valid_from <= $1 and (r.valid_to is null or r.valid_to > $1)
              and not r.withdrawn and r.price is not null
              and r.stay_date between ($1 at time zone 'UTC')::date and ($1 at time zone 'UTC')::date + $3::int
            group by 1, 2, 3
            order by 1, 2
            """, [asOf, rateProperty, days]
        ).map { row in
            RateCell(
                plan: try row.decode(column: "plan"), stayDate: try row.decode(column: "stay_date"),
                day: try row.decode(column: "day"), price: try row.decode(column: "price"),
                closed: try row.decode(column: "closed"))
        }
    }

    /// The share of mismatched keys per reconciliation of the last `days` days, per source and
    /// stream (the worst property when the report covers them all), before and after repair.
    mutating func readDrift(on connection: PostgresConnection) async throws {
        drift = try await connection.query(
            """
            select m.source || '/' || m.stream as scope, min(m.compared_at) as compared_at,
                   max(m.value)::float8 as share, max(m.threshold)::float8 as threshold,
                   bool_or(m.breached) as breached, m.after_repair
            from recon.drift_metrics m
            where m.metric = 'mismatched_share' and ($1::text is null or m.property_code = $1)
              and m.compared_at <= $2 and m.compared_at > $2 - make_interval(days => $3::int)
            group by m.source, m.stream, m.run_id, m.after_repair
            order by 1, 2
            """, [property, asOf, days]
        ).map { row in
            DriftPoint(
                scope: try row.decode(column: "scope"), comparedAt: try row.decode(column: "compared_at"),
                share: try row.decode(column: "share"), threshold: try row.decode(column: "threshold"),
                breached: try row.decode(column: "breached"), afterRepair: try row.decode(column: "after_repair"))
        }
    }

    mutating func readHealth(on connection: PostgresConnection) async throws {
        healthColumns = [
            "source", "stream", "property", "last pull (UTC)", "pull age", "event lag p95 (s)", "open dead letters",
            "mismatched share", "breached", "landed to fact (s)", "fact age",
        ]
        health = try await connection.query(
            """
            select h.source, h.stream, h.property_code, to_char(h.last_pull_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI'),
                   justify_hours(date_trunc('minute', h.pull_age))::text, round(h.event_lag_p95_seconds::numeric, 1)::text,
                   h.open_dead_letters::text, round(h.mismatched_share::numeric, 4)::text, h.breached::text,
                   round(h.landed_to_fact_seconds::numeric, 1)::text, justify_hours(date_trunc('minute', h.fact_age))::text
            from feeds.property_health h
            where $1::text is null or h.property_code = $1
            order by 1, 2, 3
            """, [property]
        ).map { row in try (0..<11).map { try row.decode(String?.self, at: $0) ?? "" } }
    }

    /// The last 30 nights: each step's duration, and per night the dead letters, retries and
    /// 429 answers its pulls counted.
    mutating func readNights(on connection: PostgresConnection) async throws {
        steps = try await connection.query(
            """
            select to_char(n.started_at at time zone 'UTC', 'YYYY-MM-DD') as night,
                   ((n.started_at at time zone 'UTC')::date - date '1970-01-01') as day, s.command as step,
                   extract(epoch from s.finished_at - s.started_at)::float8 as seconds
            from ops.runs n
            join ops.runs s on s.night_run_id = n.run_id
            where n.command = 'nightly' and n.started_at <= $1 and n.started_at > $1 - interval '30 days'
              and s.finished_at is not null
            order by n.started_at, s.step_position
            """, [asOf]
        ).map { row in
            StepDuration(
                night: try row.decode(column: "night"), day: try row.decode(column: "day"),
                step: try row.decode(column: "step"), seconds: try row.decode(column: "seconds"))
        }
        nights = try await connection.query(
            """
            select to_char(n.started_at at time zone 'UTC', 'YYYY-MM-DD') as night,
                   ((n.started_at at time zone 'UTC')::date - date '1970-01-01') as day,
                   coalesce(sum((s.counts->>'dead_letters')::numeric), 0)::float8 as dead_letters,
                   coalesce(sum((s.counts->>'retries')::numeric), 0)::float8 as retries,
                   coalesce(sum((s.counts->>'rate_limited')::numeric), 0)::float8 as rate_limited
            from ops.runs n
            left join ops.runs s on s.night_run_id = n.run_id
            where n.command = 'nightly' and n.started_at <= $1 and n.started_at > $1 - interval '30 days'
            group by n.run_id, n.started_at
            order by n.started_at
            """, [asOf]
        ).map { row in
            NightCounts(
                night: try row.decode(column: "night"), day: try row.decode(column: "day"),
                deadLetters: try row.decode(column: "dead_letters"), retries: try row.decode(column: "retries"),
                rateLimited: try row.decode(column: "rate_limited"))
        }
    }

    /// PSI of every snapshot against its reference, as feeds.psi_history gives it.
    mutating func readPSI(on connection: PostgresConnection) async throws {
        if let settings = try await connection.query(
            """
            select max(value) filter (where name = 'psi_watch')::float8, max(value) filter (where name = 'psi_retrain')::float8
            from feeds.settings
            """
        ).first {
            psiWatch = try settings.decode(Double?.self, at: 0) ?? psiWatch
            psiRetrain = try settings.decode(Double?.self, at: 1) ?? psiRetrain
        }
        psi = try await connection.query(
            """
            select h.source || '/' || h.stream as scope, date_trunc('day', h.taken_at) as taken_at, max(h.psi)::float8 as psi
            from feeds.psi_history h
            where h.psi is not null and ($1::text is null or h.property_code = $1) and h.taken_at <= $2
            group by 1, 2
            order by 1, 2
            """, [property, asOf]
        ).map { row in
            PSIPoint(
                scope: try row.decode(column: "scope"), takenAt: try row.decode(column: "taken_at"),
                psi: try row.decode(column: "psi"))
        }
    }
}
