/// OpenTravel (OTA 2003B XML): a Booking.com-style account whose new and modify/cancel
/// queues are pulled and acknowledged (`pull reservations`, and continuously by `serve`),
/// and channel-manager pushes to the receiver (`/webhooks/opentravel/{source}`).
struct OpenTravelConnector: Connector {
    static let kind = SourceConfig.Kind.opentravel
    static let reads: [SourceStream: Set<ReadMode>] = [.reservations: [.pull, .push]]
    static let nightlyPulls: [NightlyStep.PullKind] = [.reservations]

    static func runs(_ job: PullRunner.Job) -> Bool {
        if case .reservations(since: nil) = job { return true }
        return false
    }

    let login: (username: String, password: String)

    init(source: SourceConfig, secrets: SecretResolver, job: PullRunner.Job) throws {
        guard source.openTravel.pull else {
            throw ConfigError(
                "source \"\(source.name)\" has pull = false: it only receives pushes; fix: run `ota-ingest serve`, or set pull = true with base_url and credentials"
            )
        }
        login = try secrets.login(for: source)
    }

    /// One account serves all its hotels; the summary counts none.
    var properties: Int { 0 }

    func pull(_ job: PullRunner.Job, context: PullContext) async -> [String: any Error] {
        await OpenTravelPull.run(context, login: login)
    }
}
