/// How a connector reads a stream.
public enum ReadMode: String, Sendable, CaseIterable {
    /// Batch pulls (`ota-ingest pull`, the nightly's pull steps).
    case pull
    /// The OTA pushes to the receiver (`ota-ingest serve`).
    case push
    /// A read of everything the OTA serves now, which reconcile snapshots.
    case inventoryRead = "inventory read"
    /// Look-ups by key (a booking by its id): repairs and `dlq replay --refetch`.
    case search
}

/// A dialect, as the runners see it: one folder under Connectors/ that declares what it
/// reads and runs its pulls, registered by one line in `ConnectorRegistry`.
///
/// The runners (pull, reconcile, the nightly's plan) ask the registry for the
/// connector of a source's kind and call it only through this protocol.
public protocol Connector: Sendable {
    /// The value of `kind` in a `[sources.NAME]` table.
    static var kind: SourceConfig.Kind { get }
    /// What it reads, and how.
    static var reads: [SourceStream: Set<ReadMode>] { get }
    /// The pull jobs the nightly runs for a source of this kind, in order.
    static var nightlyPulls: [NightlyStep.PullKind] { get }
    /// Whether `job` is one of this connector's pulls.
    static func runs(_ job: PullRunner.Job) -> Bool

    /// Resolves what `job` needs (credentials) before its run starts: a missing secret is
    /// a clean exit 2 with nothing attempted.
    init(source: SourceConfig, secrets: SecretResolver, job: PullRunner.Job) throws

    /// How many properties the pull works (for the summary).
    var properties: Int { get }

    /// Runs `job` within its run: failures by property ("" for the whole source); a
    /// failing property does not stop the others.
    func pull(_ job: PullRunner.Job, context: PullContext) async -> [String: any Error]
}

extension Connector {
    /// The streams reconcile can snapshot, in `SourceStream` order.
    static var inventoryReads: [SourceStream] {
        SourceStream.allCases.filter { reads[$0]?.contains(.inventoryRead) == true }
    }
}
