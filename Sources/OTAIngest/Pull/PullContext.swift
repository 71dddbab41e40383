import Foundation
import HTTPClient
import PostgresClient

/// What every worker of one pull run shares.
public struct PullContext: Sendable {
    public var databaseURL: String
    public var source: SourceConfig
    public var run: Run
    public var stats: RunCounters
    public var clock: WallClock
    public var log: RunLog
    public var bucket: TokenBucket
    /// Requests and answers per property, written to ops.pipeline_counts under `callStream`.
    public var answers = AnswerCounts()
    /// reservations, feeds or inventory: the stream pipeline health files the calls under.
    public var callStream = ""

    public init(databaseURL: String, source: SourceConfig, run: Run, stats: RunCounters, clock: WallClock, log: RunLog)
    {
        self.databaseURL = databaseURL
        self.source = source
        self.run = run
        self.stats = stats
        self.clock = clock
        self.log = log
        self.bucket = TokenBucket(rate: source.requestsPerSecond, burst: source.burst)
    }

    /// A caller with its own HTTP session, for one worker.
    func makeCaller(property: String = "") -> SourceCaller {
        var caller = SourceCaller.make(for: source, bucket: bucket, stats: stats)
        caller.answers = answers
        caller.answersProperty = property
        return caller
    }

    /// What landing needs of this run.
    var landing: LandingContext {
        LandingContext(sourceName: source.name, runId: run.id, stats: stats, log: log)
    }

    /// "Now" as the UTC timestamp text stored in observed_at.
    func observedAt() -> String { Timestamps.format(clock.now()) }

    /// Today's load date (UTC, transaction time), the observation logs' partition key.
    func loadDate() -> CivilDate { clock.loadDate() }
}

/// Runs per-property work with at most `source.concurrency` properties at once,
/// each on its own database connection and HTTP session, each under the
/// property's advisory lock so no two processes work one property.
enum PropertyWorkers {
    /// Returns the failures by property code; a failing property does not stop the others.
    static func run(
        _ accounts: [PropertyAccount], context: PullContext, waitForLock: Bool = false,
        _ body: @escaping @Sendable (PropertyAccount, PostgresConnection, SourceCaller) async throws -> Void
    ) async -> [String: any Error] {
        await withTaskGroup(of: (String, (any Error)?).self) { group in
            var pending = accounts[...]
            var failures: [String: any Error] = [:]
            func launch() {
                guard let account = pending.popFirst() else { return }
                group.addTask {
                    do {
                        try await work(account, context: context, waitForLock: waitForLock, body)
                        return (account.propertyCode, nil)
                    } catch {
                        return (account.propertyCode, error)
                    }
                }
            }
            for _ in 0..<max(1, context.source.concurrency) { launch() }
            while let (code, error) = await group.next() {
                if let error {
                    failures[code] = error
                    context.log.error("\(error)", property: code)
                }
                launch()
            }
            return failures
        }
    }

    private static func work(
        _ account: PropertyAccount, context: PullContext, waitForLock: Bool,
        _ body: @Sendable (PropertyAccount, PostgresConnection, SourceCaller) async throws -> Void
    ) async throws {
        let connection = try await PostgresConnection.connect(context.databaseURL)
        let key = PostgresConnection.advisoryLockKey(
            "ota-ingest property: \(context.source.name)/\(account.propertyCode)")
        do {
            if waitForLock {
                try await connection.advisoryLock(key)
            } else if !(try await connection.tryAdvisoryLock(key)) {
                context.stats.add(.skippedProperties)
                context.log.warning("being worked by another process; skipped", property: account.propertyCode)
                await connection.close()
                return
            }
            try await body(account, connection, context.makeCaller(property: account.propertyCode))
            _ = try await connection.advisoryUnlock(key)
            await connection.close()
        } catch {
            // Closing ends the session, which releases the property's lock too.
            await connection.close()
            throw error
        }
    }
}
