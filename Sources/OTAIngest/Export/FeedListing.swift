import Foundation
import PostgresClient

/// `export --list`: each catalogued feed with the first sentence of its COMMENT ON text.
public enum FeedListing {
    public static func lines(on connection: PostgresConnection) async throws -> [String] {
        var lines: [String] = []
        let width = FeedCatalog.feeds.map(\.name.count).max() ?? 0
        for feed in FeedCatalog.feeds {
            // The object names are the catalog's fixed text, passed as parameters.
            let sql =
                feed.catalog == "pg_class"
                ? "select obj_description(to_regclass($1), 'pg_class')"
                : "select obj_description(to_regprocedure($1), 'pg_proc')"
            let comment = try await connection.query(sql, [feed.object])[0].decode(String?.self, at: 0) ?? ""
            // The first sentence, kept to one line of a terminal.
            let first = comment.components(separatedBy: ". ").first ?? comment
            let sentence = first.count > 110 ? String(first.prefix(109)) + "…" : first
            lines.append(
                feed.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
                    + (feed.takesAsOf ? "[--as-of] " : "") + sentence.trimmingCharacters(in: .whitespaces))
        }
        return lines
    }
}
