/// How `ota-ingest nightly` behaves; every field has a command-line flag.
public struct NightlySettings: Sendable {
    /// Repair breached reconciliation scopes (`--no-repair` turns it off).
    public var repair = true
    /// A step still running after this fails, and the night goes on without it.
    public var stepDeadline: Duration = .seconds(2 * 3600)
    /// No step starts after this, and a running one is cut short at it.
    public var nightDeadline: Duration = .seconds(6 * 3600)
    /// Raw observations are dropped (by load-date partition) after this many days.
    public var observationRetentionDays = 90
    /// ops.runs, ops.batches, ops.call_log, ops.pipeline_counts, ops.webhook_receipts and
    /// recon.drift_metrics rows older than this many days are deleted.
    public var ledgerRetentionDays = 90
    /// Guest personal data of bookings that departed more than this many days ago is erased
    /// (`[retention] guest_data_days` in the config file).
    public var guestDataRetentionDays = RetentionConfig().guestDataDays
    /// The full data-quality checks run when the last run of them is older than this.
    public var fullChecksEveryDays = 7

    public init() {}
}
