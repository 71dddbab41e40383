import PostgresClient

/// One run of a command from its ops.runs row to its end: every runner starts its
/// run here and nowhere else.
///
/// The scope takes the command's lock and starts or resumes the run (or reports that
/// another process holds it), hands the body the run's counters, log and clock, records
/// how the body ended, and closes the ledger connection it opened on every path: when
/// start or finish throws, when the body throws, when the command is busy.
public enum RunScope {
    /// What a started run gets: its row, the connection that holds its lock, and its tools.
    public struct Active: Sendable {
        public let run: Run
        /// Holds the command's lock; also fine for the run's small writes (request counts, snapshots).
        public let ledger: PostgresConnection
        public let counters: RunCounters
        public let log: RunLog
        public let clock: WallClock
        public let started: ContinuousClock.Instant

        public var elapsed: Duration { ContinuousClock.now - started }
    }

    /// How the body ended: what ops.runs records, and what the caller gets back.
    public struct Ending<Value: Sendable>: Sendable {
        public var status: RunStatus
        public var counts: [String: Int]
        public var error: String?
        public var value: Value
        /// Recorded as a failure, then thrown to the caller once the connection is closed.
        var thrown: (any Error)?

        public init(status: RunStatus, counts: [String: Int], error: String? = nil, value: Value) {
            self.status = status
            self.counts = counts
            self.error = error
            self.value = value
        }

        /// The run failed with `error`: recorded with `counts`, then `error` is rethrown.
        public static func failed(_ error: any Error, counts: [String: Int], value: Value) -> Ending {
            var ending = Ending(status: .failed, counts: counts, error: "\(error)", value: value)
            ending.thrown = error
            return ending
        }
    }

    public enum Result<Value: Sendable>: Sendable {
        case finished(Run, Value)
        /// Another live process runs this command; nothing was done.
        case busy(runId: String?)
    }

    /// Opens its own ledger connection and closes it however the run ends.
    public static func run<Value: Sendable>(
        command: String, databaseURL: String, forceNew: Bool = false, logFormat: RunLog.Format = .text,
        clock: WallClock = .system, _ body: (Active) async throws -> Ending<Value>
    ) async throws -> Result<Value> {
        let connection = try await PostgresConnection.connect(databaseURL)
        let result: Swift.Result<Result<Value>, any Error>
        do {
            result = .success(
                try await run(
                    command: command, on: connection, forceNew: forceNew, logFormat: logFormat, clock: clock, body))
        } catch {
            result = .failure(error)
        }
        await connection.close()
        return try result.get()
    }

    /// On the caller's connection (which the caller closes), for work that needs it
    /// before the run exists: the night migrates first, since migrating may create the ledger.
    public static func run<Value: Sendable>(
        command: String, on connection: PostgresConnection, forceNew: Bool = false,
        logFormat: RunLog.Format = .text, clock: WallClock = .system, _ body: (Active) async throws -> Ending<Value>
    ) async throws -> Result<Value> {
        let run: Run
        switch try await RunLedger.start(command: command, on: connection, forceNew: forceNew) {
        case .busy(let id): return .busy(runId: id)
        case .started(let started): run = started
        }
        let active = Active(
            run: run, ledger: connection, counters: RunCounters(), log: RunLog(format: logFormat, runId: run.id),
            clock: clock, started: .now)
        var ending: Ending<Value>
        do {
            ending = try await body(active)
        } catch {
            // Recorded, then rethrown; a failure to record it must not hide the cause.
            _ = try? await RunLedger.finish(
                run, status: .failed, counts: active.counters.snapshot, error: "\(error)", on: connection)
            throw error
        }
        if let thrown = ending.thrown {
            _ = try? await RunLedger.finish(
                run, status: ending.status, counts: ending.counts, error: ending.error, on: connection)
            throw thrown
        }
        try await RunLedger.finish(
            run, status: ending.status, counts: ending.counts, error: ending.error, on: connection)
        return .finished(run, ending.value)
    }
}

extension RunScope {
    /// A run that outlives one call (the receiver's, from start to stop): begun by
    /// `begin`, ended by `end`, which records it and closes its connection.
    public struct Service: Sendable {
        public let run: Run
        /// Holds the command's lock until `end`.
        public let ledger: PostgresConnection

        /// Records how the service ended (a failure to record is not the caller's to handle:
        /// the lock goes with the connection either way) and closes the connection.
        public func end(status: RunStatus, counts: [String: Int] = [:], error: String? = nil) async {
            _ = try? await RunLedger.finish(run, status: status, counts: counts, error: error, on: ledger)
            await ledger.close()
        }
    }

    /// Starts a service's run on a connection of its own; nil when another process holds
    /// the command. The connection is closed here on every path but success.
    public static func begin(command: String, databaseURL: String, forceNew: Bool = false) async throws -> Service? {
        let connection = try await PostgresConnection.connect(databaseURL)
        do {
            switch try await RunLedger.start(command: command, on: connection, forceNew: forceNew) {
            case .busy:
                await connection.close()
                return nil
            case .started(let run):
                return Service(run: run, ledger: connection)
            }
        } catch {
            await connection.close()
            throw error
        }
    }
}
