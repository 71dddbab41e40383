/// WebHotelier: bookings from the pending list (pull), PUSH and PING (the receiver),
/// availability and rates from its inventory endpoints, bookings by id (search).
struct WebHotelierConnector: Connector {
    static let kind = SourceConfig.Kind.webhotelier
    static let reads: [SourceStream: Set<ReadMode>] = [
        .reservations: [.pull, .push, .inventoryRead, .search],
        .availability: [.pull, .inventoryRead],
        .rates: [.pull, .push, .inventoryRead],
    ]
    static let nightlyPulls: [NightlyStep.PullKind] = [.reservations, .rates]

    static func runs(_ job: PullRunner.Job) -> Bool {
        switch job {
        case .reservations, .pingReservations, .feeds: true
        case .inventory: false
        }
    }

    /// One account per property; a PING's pull works the pinged property only.
    let accounts: [PropertyAccount]

    init(source: SourceConfig, secrets: SecretResolver, job: PullRunner.Job) throws {
        var accounts = try secrets.accounts(for: source)
        if case .pingReservations(let property, _) = job {
            accounts = accounts.filter { $0.propertyCode == property }
            guard !accounts.isEmpty else {
                throw ConfigError(
                    "source \"\(source.name)\": no credentials for pinged property \(property); fix: add them to the source's secrets"
                )
            }
        }
        self.accounts = accounts
    }

    var properties: Int { accounts.count }

    func pull(_ job: PullRunner.Job, context: PullContext) async -> [String: any Error] {
        switch job {
        case .reservations(let since):
            await ReservationPull.run(context, accounts: accounts, since: since)
        case .pingReservations(_, let gap):
            await ReservationPull.run(context, accounts: accounts, pingGap: gap)
        case .feeds(let streams):
            await InventoryPull.run(context, accounts: accounts, streams: streams)
        case .inventory:
            preconditionFailure("WebHotelier does not run `pull inventory`")
        }
    }
}
