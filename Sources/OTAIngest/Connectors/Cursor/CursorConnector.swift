/// A generic cursor feed: rate and availability records (`inventory`) read incrementally
/// by `pull inventory`, and read whole for reconcile.
struct CursorConnector: Connector {
    static let kind = SourceConfig.Kind.cursor
    static let reads: [SourceStream: Set<ReadMode>] = [.inventory: [.pull, .inventoryRead]]
    static let nightlyPulls: [NightlyStep.PullKind] = [.inventory]

    static func runs(_ job: PullRunner.Job) -> Bool {
        if case .inventory = job { return true }
        return false
    }

    let token: String

    init(source: SourceConfig, secrets: SecretResolver, job: PullRunner.Job) throws {
        token = try secrets.token(for: source)
    }

    /// The feed carries its properties in its records; the summary counts none.
    var properties: Int { 0 }

    func pull(_ job: PullRunner.Job, context: PullContext) async -> [String: any Error] {
        do {
            try await CursorPull.run(context, token: token)
            return [:]
        } catch {
            return ["": error]
        }
    }
}
