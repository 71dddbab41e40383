import Foundation

/// How one source is reconciled: `[sources.NAME.reconcile]` in the TOML file.
public struct ReconcileSettings: Sendable, Equatable {
    /// Snapshots kept per (source, stream, property), pinned ones aside.
    public var keepSnapshots = 14
    /// Reservations: bookings modified within this many days are in scope (with those checking out from today).
    public var reservationWindowDays = 30
    /// The share of mismatched keys above which a scope is breached, per stream.
    public var maxMismatchedShare: [String: Double] = [:]
    /// The share used for streams not named in `maxMismatchedShare`; nil leaves it to the
    /// comparison SQL's default (the seed's 0.5%, in sql/reconcile/10_scope.sql), which
    /// also decides what breaches.
    public var defaultMaxMismatchedShare: Double?
    /// A reconcile within this long of a scope's latest snapshot compares that snapshot
    /// again instead of reading the OTA (how a repair is verified, and how a rerun after
    /// a kill avoids a second read). WebHotelier feeds follow the feed interval instead.
    public var snapshotReuse: Duration = .seconds(3600)

    public init() {}

    /// The configured threshold of `stream`; nil for the SQL's default.
    public func threshold(for stream: String) -> Double? {
        maxMismatchedShare[stream] ?? defaultMaxMismatchedShare
    }
}
