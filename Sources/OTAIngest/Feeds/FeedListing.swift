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
            let first = comment.split(separator: ":", maxSplits: 1).first.map(String.init) ?? comment
            let sentence = first.split(separator: ".", maxSplits: 1).first.map(String.init) ?? first
            lines.append(
                feed.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
                    + (feed.takesAsOf ? "[--as-of] " : "") + sentence.trimmingCharacters(in: .whitespaces))
        }
        return lines
    }
}
