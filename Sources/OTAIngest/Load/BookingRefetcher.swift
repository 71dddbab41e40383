import Foundation

/// `dlq replay --refetch`: reads a dead-lettered booking again from its OTA, as it
/// is now. A dead letter's bytes never change, and a body that was refused because
/// the server sent it broken is fixed only at the source; the current body lands
/// through the normal path (origin `recovery`), the dead letter is marked replayed.
public struct BookingRefetcher: Sendable {
    let sources: [String: SourceConfig]
    /// Per source name, its property accounts by property code.
    let accounts: [String: [String: PropertyAccount]]
    /// One token bucket per source, so a replay of many dead letters keeps the source's rate.
    let buckets: [String: TokenBucket]

    /// Resolves the credentials of every configured WebHotelier source up front, so a
    /// missing secret is a configuration error before anything is read.
    public init(config: IngestConfig, secrets: SecretResolver) throws {
        var sources: [String: SourceConfig] = [:]
        var accounts: [String: [String: PropertyAccount]] = [:]
        for source in config.sources where source.kind == .webhotelier {
            sources[source.name] = source
            accounts[source.name] = Dictionary(
                try secrets.accounts(for: source).map { ($0.propertyCode, $0) }, uniquingKeysWith: { a, _ in a })
        }
        self.sources = sources
        self.accounts = accounts
        buckets = sources.mapValues { TokenBucket(rate: $0.requestsPerSecond, burst: $0.burst) }
    }

    /// The booking's current body (the response's `data`), or why it cannot be had.
    func currentBody(of candidate: DeadLetterReplay.Candidate, stats: RunCounters) async -> Result<
        [UInt8], RecordRefusal
    > {
        func refused(_ reason: String) -> Result<[UInt8], RecordRefusal> {
            .failure(RecordRefusal(reason: "refetch: \(reason)"))
        }
        guard let source = sources[candidate.source] else {
            return refused(
                "source \"\(candidate.source)\" is not a WebHotelier source in the configuration; fix: add it, or replay without --refetch"
            )
        }
        guard let account = accounts[candidate.source]?[candidate.property] else {
            return refused(
                "no credentials for property \(candidate.property) of source \"\(candidate.source)\"; fix: add them to the source's secrets"
            )
        }
        guard let id = candidate.recordKey.flatMap({ Int($0) }) else {
            return refused("the dead letter has no confirmation id; fix: land a corrected copy with `ota-ingest load`")
        }
        let caller = SourceCaller.make(for: source, bucket: buckets[source.name]!, stats: stats)
        let client = WebHotelierClient(account: account, baseURL: source.baseURL, caller: caller)
        do {
            let envelope = try await client.reservation(id)
            // The id and property must be the dead letter's own before anything lands.
            switch BookingParser.parse(
                envelope.body, data: envelope.data, expectedId: id, expectedProperty: candidate.property)
            {
            case .failure(let refusal): return refused("the current body is refused too: \(refusal.reason)")
            case .success: return .success(Array(envelope.body[envelope.data.range]))
            }
        } catch {
            return refused("\(error)")
        }
    }
}
