/// What landing a batch needs of the run doing it: who it lands for, which run,
/// and where it counts and logs. Shared by pulls, backfill loads and replays.
public struct LandingContext: Sendable {
    public var sourceName: String
    public var runId: String
    public var stats: RunCounters
    public var log: RunLog
    /// How the batch's records arrived (pull, backfill, ...), recorded with its dead letters.
    public var origin: String

    public init(sourceName: String, runId: String, stats: RunCounters, log: RunLog, origin: String = "pull") {
        self.sourceName = sourceName
        self.runId = runId
        self.stats = stats
        self.log = log
        self.origin = origin
    }
}
