/// The feeds `ota-ingest export` can stream: a fixed catalog, so a feed name
/// from the command line only ever selects one of these texts and is never
/// put into SQL. The as-of time and the property reach the SQL as session
/// settings written by parameterised `set_config` calls (COPY takes no
/// parameters), read back with `current_setting`.
public struct FeedDefinition: Sendable {
    public var name: String
    /// The object whose `COMMENT ON` text describes the feed (for `--list`).
    public var object: String
    /// `pg_class` for a view, `pg_proc` for a function.
    public var catalog: String
    /// True when the feed is a function of the as-of time.
    public var takesAsOf: Bool
    /// The SELECT, fixed text.
    public var query: String
}

public enum FeedCatalog {
    static let asOf = "current_setting('ota_export.as_of')::timestamptz"
    static let property = "nullif(current_setting('ota_export.property'), '')"

    public static let feeds: [FeedDefinition] = [
        FeedDefinition(
            name: "pricing_current_rates", object: "feeds.pricing_current_rates", catalog: "pg_class",
            takesAsOf: false, query: "select * from feeds.pricing_current_rates"),
        FeedDefinition(
            name: "property_health", object: "feeds.property_health", catalog: "pg_class", takesAsOf: false,
            query: "select * from feeds.property_health"),
        FeedDefinition(
            name: "retraining_signals", object: "feeds.retraining_signals", catalog: "pg_class", takesAsOf: false,
            query: "select * from feeds.retraining_signals"),
        FeedDefinition(
            name: "booking_pace", object: "feeds.booking_pace_as_of(timestamptz, date, date, text, boolean)",
            catalog: "pg_proc", takesAsOf: true,
            query: "select * from feeds.booking_pace_as_of(\(asOf), only_property => \(property))"),
        FeedDefinition(
            name: "rates", object: "feeds.rates_as_of(timestamptz)", catalog: "pg_proc", takesAsOf: true,
            query: "select * from feeds.rates_as_of(\(asOf))"),
        FeedDefinition(
            name: "availability", object: "feeds.availability_as_of(timestamptz)", catalog: "pg_proc",
            takesAsOf: true, query: "select * from feeds.availability_as_of(\(asOf))"),
        FeedDefinition(
            name: "reservations", object: "feeds.reservations_as_of(timestamptz)", catalog: "pg_proc",
            takesAsOf: true, query: "select * from feeds.reservations_as_of(\(asOf))"),
    ]

    public static func feed(named name: String) -> FeedDefinition? {
        let bare = name.hasPrefix("feeds.") ? String(name.dropFirst("feeds.".count)) : name
        return feeds.first { $0.name == bare || $0.object.hasPrefix("feeds.\(bare)(") }
    }

    /// The COPY statement for a feed: fixed text assembled from the catalog only.
    static func copyStatement(_ feed: FeedDefinition, format: ExportFormat, filtered: Bool) -> String {
        let select =
            filtered
            ? "select f.* from (\(feed.query)) f where f.property_code = \(property)"
            : feed.query
        switch format {
        case .csv:
            return "copy (\(select)) to stdout (format csv, header true)"
        case .ndjson:
            // COPY's text format doubles every backslash of the JSON; CSV with a
            // quote and a delimiter that JSON text never holds raw (row_to_json
            // escapes control characters) passes each document through untouched.
            return
                "copy (select row_to_json(r)::text from (\(select)) r) to stdout (format csv, quote e'\\x01', delimiter e'\\x02')"
        }
    }
}

public enum ExportFormat: String, Sendable, CaseIterable {
    case csv, ndjson
}
