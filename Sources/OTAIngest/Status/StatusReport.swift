import Foundation
import PostgresClient

/// `ota-ingest status`: what an operator reads in the morning. Each section is
/// one query that returns its rows as JSON (json_agg), with exact figures:
/// timestamps to the microsecond, durations and lags in seconds. `--format json`
/// prints the sections side by side; the table (StatusTable) is drawn from the
/// same document, rounded for a person.
public enum StatusReport {
    /// How the table shows a column's exact JSON value.
    enum Shape {
        case text
        /// A timestamp, shown to the second.
        case timestamp
        /// Seconds, shown in human units (`8h 1m`).
        case duration
        /// A figure, shown with at most three decimals.
        case number
        /// True or false, shown as yes or no.
        case flag
    }

    /// A column of the table: the JSON key it shows and its heading.
    struct Column {
        var key: String
        var title: String
        var shape: Shape = .text
        /// Free text (a command, an error) that gives up width first when a row is too wide.
        var flexible = false

        init(_ key: String, _ title: String? = nil, _ shape: Shape = .text, flexible: Bool = false) {
            self.key = key
            self.title = title ?? key
            self.shape = shape
            self.flexible = flexible
        }
    }

    struct Section {
        var key: String
        var title: String
        /// The table's columns; the JSON carries every column the query returns.
        var columns: [Column]
        var sql: String
        /// One object (or null) rather than an array of rows.
        var single = false
    }

    // $1 is the --property filter (NULL for every property). Timestamps come in
    // UTC (the report sets the session's time zone), so the table can show them
    // without converting.
    static let sections: [Section] = [
        Section(
            key: "night", title: "the last nightly",
            columns: [
                Column("run_id", "run"), Column("status"), Column("exit_status", "exit"),
                Column("started_at", "started", .timestamp), Column("seconds", "took", .duration),
            ],
            sql: """
                select n.run_id, n.status, (n.counts->>'exit_status')::int as exit_status, n.started_at,
                       n.finished_at, extract(epoch from coalesce(n.finished_at, now()) - n.started_at) as seconds
                from ops.runs n
                where n.command = 'nightly'
                order by n.started_at desc limit 1
                """,
            single: true),
        // Steps in the order the night runs them: a resumed night begins its
        // unfinished steps (and migrate) again, so their start times are later
        // than those of the steps an earlier attempt finished.
        Section(
            key: "last_night", title: "the last nightly's steps",
            columns: [
                Column("step", flexible: true), Column("status"), Column("started_at", "started", .timestamp),
                Column("seconds", "took", .duration), Column("error", flexible: true),
            ],
            sql: """
                select substr(s.command, length('nightly: ') + 1) as step, s.step_position as position, s.status,
                       s.started_at, s.finished_at,
                       extract(epoch from coalesce(s.finished_at, now()) - s.started_at) as seconds, s.error
                from ops.runs s
                where s.night_run_id = (select run_id from ops.runs where command = 'nightly'
                                        order by started_at desc limit 1)
                order by s.step_position nulls last, s.started_at
                """),
        // One row per command and source: the runs of `load` are named by their
        // file as well (so a file is not loaded twice), which would give a row per file.
        Section(
            key: "runs", title: "last run of each command",
            columns: [
                Column("command", flexible: true), Column("status"), Column("started_at", "started", .timestamp),
                Column("seconds", "took", .duration), Column("records", nil, .number),
                Column("landed", nil, .number), Column("dead_letters", "dead", .number),
                Column("error", flexible: true),
            ],
            sql: """
                select distinct on (c.command) c.command, r.run_id, r.status, r.started_at, r.finished_at,
                       extract(epoch from coalesce(r.finished_at, now()) - r.started_at) as seconds,
                       (r.counts->>'records')::bigint as records, (r.counts->>'landed')::bigint as landed,
                       (r.counts->>'dead_letters')::bigint as dead_letters, r.error
                from ops.runs r
                cross join lateral (select regexp_replace(r.command, '^(load \\S+ \\S+) .*$', '\\1') as command) c
                where r.command not like 'nightly: %'
                order by c.command, r.started_at desc
                """),
        Section(
            key: "watermarks", title: "watermarks",
            columns: [
                Column("source"), Column("stream"), Column("property_code", "property"),
                Column("updated_after", "updated after", .timestamp), Column("age_seconds", "age", .duration),
                Column("run_id", "moved by", flexible: true),
            ],
            sql: """
                select w.source, w.stream, w.property_code, w.updated_after, w.updated_at,
                       extract(epoch from now() - w.updated_at) as age_seconds, w.run_id
                from ops.watermarks w
                where $1::text is null or w.property_code in ($1, '')
                order by 1, 2, 3
                """),
        Section(
            key: "health", title: "pulls, lag and reconciliation per property",
            columns: [
                Column("source"), Column("stream"), Column("property_code", "property"),
                Column("last_pull_at", "last pull", .timestamp), Column("pull_age_seconds", "age", .duration),
                Column("event_lag_p95_seconds", "lag p95", .duration),
                Column("open_dead_letters", "dead", .number),
                Column("last_reconciled_at", "reconciled", .timestamp), Column("breached", nil, .flag),
            ],
            sql: """
                select h.source, h.stream, h.property_code, h.last_pull_at,
                       extract(epoch from h.pull_age) as pull_age_seconds, h.event_lag_p95_seconds,
                       h.open_dead_letters, h.last_reconciled_at, h.mismatched_share, h.breached
                from feeds.property_health h
                where $1::text is null or h.property_code in ($1, '')
                order by 1, 2, 3
                """),
        // What continuous promotion (and every transform) last brought into facts: the newest
        // landing promoted, and how long after it landed (or after the OTA's event) it was.
        Section(
            key: "freshness", title: "facts freshness per property",
            columns: [
                Column("source"), Column("stream"), Column("property_code", "property"),
                Column("last_promoted_at", "promoted", .timestamp),
                Column("landed_to_fact_seconds", "landed->fact", .duration),
                Column("event_to_fact_seconds", "event->fact", .duration),
                Column("fact_age_seconds", "age", .duration),
            ],
            sql: """
                select f.source, f.stream, f.property_code, f.last_event_at, f.last_loaded_at, f.last_promoted_at,
                       extract(epoch from f.last_promoted_at - f.last_loaded_at) as landed_to_fact_seconds,
                       extract(epoch from f.last_promoted_at - f.last_event_at) as event_to_fact_seconds,
                       extract(epoch from now() - f.last_promoted_at) as fact_age_seconds
                from ops.fact_freshness f
                where $1::text is null or f.property_code = $1
                order by 1, 2, 3
                """),
        Section(
            key: "set_aside", title: "rows continuous promotion set aside (not in facts)",
            columns: [
                Column("stream"), Column("transactions", nil, .number), Column("rows", nil, .number),
                Column("oldest", nil, .timestamp), Column("retry_due", "due", .flag), Column("error", flexible: true),
            ],
            sql: """
                select a.stream, count(*) as transactions, sum(a.row_count) as rows, min(a.set_aside_at) as oldest,
                       bool_or(a.retry_due) as retry_due, max(a.failures) as failures,
                       (array_agg(a.error order by a.set_aside_at desc))[1] as error
                from ops.promotion_set_aside a
                where a.promoted_at is null
                group by a.stream order by 1
                """),
        // OpenTravel queues are the only read of such a source: nothing can be compared with
        // them, so the section says so, and shows instead what waits for its acknowledgement
        // (served, not yet seen acknowledged) against the OTA's fallback (an email to the hotel).
        // $2, $3: the configured opentravel sources that pull, and their warning ages in seconds.
        Section(
            key: "opentravel", title: "OpenTravel queues: reservations waiting for their acknowledgement",
            columns: [
                Column("source"), Column("waiting", nil, .number), Column("near_fallback", "near fallback", .number),
                Column("oldest_seconds", "oldest", .duration), Column("reconciled", flexible: true),
            ],
            sql: """
                with sources as (
                    select c.source, c.warning_seconds::double precision as warning_seconds
                    from unnest($2::text[], $3::text[]) as c(source, warning_seconds)
                    union
                    select distinct w.source, 1200 from ops.opentravel_waiting w where w.source <> all($2::text[])
                )
                select s.source, count(w.confirmation_id) as waiting,
                       count(w.confirmation_id) filter (where w.waiting_for >= make_interval(secs => s.warning_seconds))
                           as near_fallback,
                       s.warning_seconds, min(w.waiting_since) as oldest_since,
                       extract(epoch from max(w.waiting_for)) as oldest_seconds,
                       'never: the queues are the only read (nothing to compare with)' as reconciled
                from sources s
                left join ops.opentravel_waiting_ages w on w.source = s.source and ($1::text is null or w.property_code = $1)
                group by s.source, s.warning_seconds
                order by 1
                """),
        Section(
            key: "dead_letters", title: "open dead letters",
            columns: [
                Column("source"), Column("stream"), Column("property_code", "property"),
                Column("open", nil, .number), Column("oldest", nil, .timestamp),
            ],
            sql: """
                select l.source, l.stream, l.property_code, count(*) as open, min(l.first_seen) as oldest
                from ops.dead_letters l
                where l.replayed_at is null and ($1::text is null or l.property_code = $1)
                group by 1, 2, 3 order by 1, 2, 3
                """),
        Section(
            key: "drift_breaches", title: "drift breaches (latest comparison)",
            columns: [
                Column("source"), Column("stream"), Column("property_code", "property"),
                Column("metric", flexible: true), Column("value", nil, .number), Column("threshold", nil, .number),
                Column("compared_at", "compared", .timestamp),
            ],
            sql: """
                select d.source, d.stream, d.property_code, d.metric, d.value, d.threshold, d.compared_at
                from recon.latest_drift d
                where d.breached and d.kind = 'drift' and ($1::text is null or d.property_code = $1)
                order by 1, 2, 3, 4
                """),
        Section(
            key: "properties_not_pulled", title: "properties that failed or were skipped (latest pulls)",
            columns: [
                Column("command", flexible: true), Column("failed", nil, .number), Column("skipped", nil, .number),
                Column("error", flexible: true),
            ],
            sql: """
                select r.command, (r.counts->>'failed_properties')::int as failed,
                       (r.counts->>'skipped_properties')::int as skipped, r.error
                from (select distinct on (command) * from ops.runs where command like 'pull %'
                      order by command, started_at desc) r
                where coalesce((r.counts->>'failed_properties')::int, 0) > 0
                   or coalesce((r.counts->>'skipped_properties')::int, 0) > 0
                   or r.status = 'failed'
                order by 1
                """),
    ]

    /// The report as one JSON object, keyed by section, with exact figures. `openTravel`: the
    /// configured opentravel sources that pull (listed even when nothing of them waits).
    public static func json(property: String?, openTravel: [SourceConfig] = [], on connection: PostgresConnection)
        async throws -> String
    {
        _ = try await connection.query("select set_config('TimeZone', 'UTC', false)")
        let pulling = openTravel.filter { $0.kind == .opentravel && $0.openTravel.pull }
        let parameters: [(any PostgresBindable)?] = [
            property, PostgresTextArray(pulling.map(\.name)),
            PostgresTextArray(pulling.map { String(Double($0.openTravel.fallbackWarning.components.seconds)) }),
        ]
        var parts: [String] = []
        for section in sections {
            let document =
                section.single
                ? "select coalesce((select row_to_json(t) from (\(section.sql)) t), 'null'::json)::text"
                : "select coalesce(json_agg(t), '[]'::json)::text from (\(section.sql)) t"
            // A section takes the parameters up to the last it uses (an unused one has no type).
            let used = (1...parameters.count).last { section.sql.contains("$\($0)") } ?? 0
            let rows = try await connection.query(document, Array(parameters.prefix(used)))
            parts.append("\"\(section.key)\": " + (try rows[0].decode(String.self, at: 0)))
        }
        return "{" + parts.joined(separator: ", ") + "}"
    }

    /// The report as tables for a terminal, no line wider than `width` characters.
    public static func table(
        property: String?, openTravel: [SourceConfig] = [], width: Int = 120, on connection: PostgresConnection
    ) async throws -> String {
        let document = try await json(property: property, openTravel: openTravel, on: connection)
        guard let object = try JSONSerialization.jsonObject(with: Data(document.utf8)) as? [String: Any] else {
            return document
        }
        return StatusTable(width: width).render(sections, object)
    }
}
