/// What a source serves (SourceStream: Foundation has a Stream), as named in staging, ops.batches, ops.dead_letters,
/// recon.snapshots and the CLI: the one list every switch over streams reads.
public enum SourceStream: String, Sendable, CaseIterable, Codable {
    /// Booking versions (staging.reservation_events).
    case reservations
    /// Room x night allotments and restrictions (staging.availability_observations).
    case availability
    /// Rate plan x night prices (staging.rate_observations, stream 'rates').
    case rates
    /// A cursor feed's combined rate and availability records (staging.rate_observations, stream 'inventory').
    case inventory

    /// The streams a file can be loaded as (`load reservations|availability|rates`).
    public static let loadable: [SourceStream] = [.reservations, .availability, .rates]
}
