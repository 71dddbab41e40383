import Foundation
import PostgresClient

/// `ota-ingest reconcile --show-keys`: the keys behind the latest comparison of
/// each (source, stream, property), from recon.comparison_keys: missing, extra,
/// mismatched (with the OTA's and the warehouse's values) and unreadable.
public enum ComparisonKeyListing {
    /// The listing as text, at most `limit` keys per scope.
    public static func render(
        databaseURL: String, source: String?, stream: String?, property: String?, limit: Int
    ) async throws -> String {
        guard limit > 0 else { throw ConfigError("--limit \(limit) is below 1; fix: pass a positive number of keys") }
        let connection = try await PostgresConnection.connect(databaseURL)
        let rows: PostgresResult
        do {
            rows = try await connection.query(
                """
                with latest as (
                    select distinct on (m.source, m.stream, m.property_code)
                           m.source, m.stream, m.property_code, m.snapshot_id, m.after_repair, m.compared_at
                    from recon.drift_metrics m
                    where ($1::text is null or m.source = $1) and ($2::text is null or m.stream = $2)
                      and ($3::text is null or m.property_code = $3)
                    order by m.source, m.stream, m.property_code, m.compared_at desc, m.after_repair desc
                )
                select l.source, l.stream, l.property_code, l.snapshot_id, k.kind, k.key::text, k.ota_value::text,
                       k.fact_value::text,
                       (select count(*) from recon.comparison_keys c
                        where (c.property_code, c.snapshot_id, c.after_repair) = (l.property_code, l.snapshot_id, l.after_repair))
                from latest l
                left join lateral (
                    select c.kind, c.key, c.ota_value, c.fact_value from recon.comparison_keys c
                    where (c.property_code, c.snapshot_id, c.after_repair) = (l.property_code, l.snapshot_id, l.after_repair)
                    order by c.kind, c.key
                    limit $4
                ) k on true
                order by l.source, l.stream, l.property_code, k.kind, k.key
                """, [source, stream, property, limit])
        } catch {
            await connection.close()
            throw error
        }
        await connection.close()
        guard !rows.isEmpty else {
            return "no comparison recorded for this scope; fix: run `ota-ingest reconcile` first"
        }
        var lines: [String] = []
        var scope = ""
        for row in rows {
            let name = [
                try row.decode(String.self, at: 0), try row.decode(String.self, at: 1),
                try row.decode(String.self, at: 2),
            ].joined(separator: " ")
            if name != scope {
                scope = name
                let total = try row.decode(Int.self, at: 8)
                let snapshot = try row.decode(Int64.self, at: 3)
                lines.append(
                    "\(name)  snapshot \(snapshot)  \(total) keys differ"
                        + (total > limit ? " (first \(limit) shown; --limit for more)" : ""))
            }
            guard let kind = try row.decode(String?.self, at: 4) else { continue }
            var line =
                "  " + kind.padding(toLength: 11, withPad: " ", startingAt: 0) + (try row.decode(String.self, at: 5))
            if let ota = try row.decode(String?.self, at: 6) { line += "  ota \(ota)" }
            if let fact = try row.decode(String?.self, at: 7) { line += "  warehouse \(fact)" }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}
