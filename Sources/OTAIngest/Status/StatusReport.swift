import Foundation
import PostgresClient

/// `ota-ingest status`: what an operator reads in the morning. Each section is
/// one query that returns its rows as a JSON array (json_agg), so the JSON
/// output is the sections side by side and the table is drawn from the same data.
public enum StatusReport {
    struct Section {
        var key: String
        var title: String
        var columns: [String]
        var sql: String
    }

    // $1 is the --property filter (NULL for every property).
    static let sections: [Section] = [
        Section(
            key: "runs", title: "last run of each command",
            columns: ["command", "status", "started_at", "seconds", "records", "landed", "dead_letters", "error"],
            sql: """
                select distinct on (r.command) r.command, r.status, r.started_at,
                       round(extract(epoch from coalesce(r.finished_at, now()) - r.started_at)::numeric, 1) as seconds,
                       (r.counts->>'records')::bigint as records, (r.counts->>'landed')::bigint as landed,
                       (r.counts->>'dead_letters')::bigint as dead_letters, r.error
                from ops.runs r
                where r.command not like 'nightly: %'
                order by r.command, r.started_at desc
                """),
        Section(
            key: "last_night", title: "the last nightly's steps",
            columns: ["step", "status", "started_at", "seconds", "error"],
            sql: """
                select substr(s.command, length('nightly: ') + 1) as step, s.status, s.started_at,
                       round(extract(epoch from coalesce(s.finished_at, now()) - s.started_at)::numeric, 1) as seconds,
                       s.error
                from ops.runs s
                where s.night_run_id = (select run_id from ops.runs where command = 'nightly' order by started_at desc limit 1)
                order by s.started_at
                """),
        Section(
            key: "watermarks", title: "watermarks",
            columns: ["source", "stream", "property_code", "updated_after", "age", "run_id"],
            sql: """
                select w.source, w.stream, w.property_code, w.updated_after,
                       date_trunc('second', now() - w.updated_at)::text as age, w.run_id
                from ops.watermarks w
                where $1::text is null or w.property_code in ($1, '')
                order by 1, 2, 3
                """),
        Section(
            key: "health", title: "pulls, lag and reconciliation per property",
            columns: [
                "source", "stream", "property_code", "last_pull_at", "pull_age", "event_lag_p95_seconds",
                "open_dead_letters", "last_reconciled_at", "breached",
            ],
            sql: """
                select h.source, h.stream, h.property_code, h.last_pull_at, date_trunc('second', h.pull_age)::text as pull_age,
                       round(h.event_lag_p95_seconds, 1) as event_lag_p95_seconds, h.open_dead_letters,
                       h.last_reconciled_at, h.breached
                from feeds.property_health h
                where $1::text is null or h.property_code in ($1, '')
                order by 1, 2, 3
                """),
        Section(
            key: "dead_letters", title: "open dead letters by stream",
            columns: ["source", "stream", "open", "oldest"],
            sql: """
                select l.source, l.stream, count(*) as open, min(l.first_seen) as oldest
                from ops.dead_letters l
                where l.replayed_at is null and ($1::text is null or l.property_code = $1)
                group by 1, 2 order by 1, 2
                """),
        Section(
            key: "drift_breaches", title: "drift breaches (latest comparison)",
            columns: ["source", "stream", "property_code", "metric", "value", "threshold", "compared_at"],
            sql: """
                select d.source, d.stream, d.property_code, d.metric, d.value, d.threshold, d.compared_at
                from recon.latest_drift d
                where d.breached and d.kind = 'drift' and ($1::text is null or d.property_code = $1)
                order by 1, 2, 3, 4
                """),
        Section(
            key: "properties_not_pulled", title: "properties that failed or were skipped (latest pulls)",
            columns: ["command", "failed", "skipped", "error"],
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

    /// The report as one JSON object, keyed by section.
    public static func json(property: String?, on connection: PostgresConnection) async throws -> String {
        var parts: [String] = []
        for section in sections {
            // Sections that do not filter by property take no parameter (an unused $1 has no type).
            let rows = try await connection.query(
                "select coalesce(json_agg(t), '[]'::json)::text from (\(section.sql)) t",
                section.sql.contains("$1") ? [property] : [])
            parts.append("\"\(section.key)\": " + (try rows[0].decode(String.self, at: 0)))
        }
        return "{" + parts.joined(separator: ", ") + "}"
    }

    /// The report as tables for a terminal.
    public static func table(property: String?, on connection: PostgresConnection) async throws -> String {
        let document = try await json(property: property, on: connection)
        guard let object = try JSONSerialization.jsonObject(with: Data(document.utf8)) as? [String: Any] else {
            return document
        }
        var out: [String] = []
        for section in sections {
            let rows = object[section.key] as? [[String: Any]] ?? []
            out.append("== \(section.title)" + (rows.isEmpty ? ": none" : ""))
            guard !rows.isEmpty else { continue }
            let cells = rows.map { row in section.columns.map { Self.text(row[$0]) } }
            let widths = section.columns.indices.map { index in
                min(48, max(section.columns[index].count, cells.map { $0[index].count }.max() ?? 0))
            }
            func line(_ values: [String]) -> String {
                zip(values, widths).map { value, width in
                    let clipped = value.count > width ? String(value.prefix(width - 1)) + "…" : value
                    return clipped.padding(toLength: width, withPad: " ", startingAt: 0)
                }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
            }
            out.append(line(section.columns))
            out += cells.map(line)
        }
        return out.joined(separator: "\n")
    }

    static func text(_ value: Any?) -> String {
        switch value {
        case nil, is NSNull: ""
        case let number as NSNumber: number.stringValue
        case let string as String: string
        default: "\(value!)"
        }
    }
}
