import CLibPQ
import DedicatedThread
import Foundation

/// One PostgreSQL session over libpq; every libpq call runs on the connection's own thread.
///
/// libpq allows one thread at a time per `PGconn` and blocks while the server works, so the
/// actor's executor is a dedicated thread (see `ThreadExecutor`): an `await` on a connection
/// suspends the caller's task, never a thread of Swift's cooperative pool.
public actor PostgresConnection {
    private let executor: ThreadExecutor
    private let owner = HandleOwner()
    var canceller: QueryCanceller?
    /// Numbers the savepoints of nested transactions.
    var savepointDepth = 0
    /// Whether a task holds the session for a transaction (see `exclusive`).
    var sessionHeld = false
    var sessionWaiters: [CheckedContinuation<Void, Never>] = []
    /// `host:port/database`, to name the server in messages; never includes the password.
    public private(set) var target = "PostgreSQL"
    /// Statements prepared on this session (see `StatementCache`).
    var statements = StatementCache()
    /// A cached statement the server refused inside a transaction; the transaction runs again once.
    var planRefused = false
    /// Whether a session the server dropped is replaced before the next statement (see `reviveIfDropped`).
    var revivesDroppedSession = false
    /// The session's time zone setting, set again on a replaced session.
    var sessionTimeZone: String?
    /// What callers read of the server once per session (see `sessionFact`); emptied with a replaced session.
    var sessionFacts: [String: Bool] = [:]

    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    private init(executor: ThreadExecutor) {
        self.executor = executor
    }

    deinit {
        executor.shutdown()
    }

    /// The libpq connection; nil once closed.
    var handle: OpaquePointer? {
        get { owner.handle }
        set { owner.handle = newValue }
    }

    /// Opens a session from a libpq URI (`postgresql://user@host:port/db`) or `key=value` conninfo.
    ///
    /// The session always uses client_encoding UTF8, DateStyle ISO and bytea_output hex, which the
    /// decoders rely on; `timeZone` (UTC by default, nil for the server's setting) fixes what
    /// `::date` and `date_trunc` mean, so a nightly run does not depend on server configuration.
    /// `application_name` and a 10-second `connect_timeout` apply unless the conninfo sets them.
    public static func connect(
        _ conninfo: String, applicationName: String = "ota-ingest", timeZone: String? = "UTC"
    ) async throws -> PostgresConnection {
        // libpq and our COPY loop are shallow; the default 8 MiB stack would be wasted per connection.
        let connection = PostgresConnection(executor: ThreadExecutor(name: "postgres-connection", stackSize: 1 << 20))
        try await connection.open(conninfo, applicationName: applicationName, timeZone: timeZone)
        return connection
    }

    private func open(_ conninfo: String, applicationName: String, timeZone: String?) throws {
        try ConnectionFailure.validate(conninfo)
        // Keywords before `dbname` are defaults the conninfo may override; those after it win.
        let keywords = ["application_name", "connect_timeout", "dbname", "client_encoding"]
        let values = [applicationName, "10", conninfo, "UTF8"]
        let connection = withCStrings(keywords) { keywords in
            withCStrings(values) { values in PQconnectdbParams(keywords, values, 1) }
        }
        guard let connection else {
            throw PostgresError(
                kind: .connectionFailed, sqlState: .sqlClientUnableToEstablishConnection,
                message: "cannot connect to PostgreSQL: libpq could not allocate a connection; fix: free memory")
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let error = ConnectionFailure.error(connecting: connection)
            PQfinish(connection)
            throw error
        }
        handle = connection
        target = ConnectionFailure.target(of: connection)
        canceller = QueryCanceller(connection: connection)
        // libpq prints notices (e.g. "schema already exists, skipping") to stderr by default,
        // which would interleave with the tool's structured logs.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
        sessionTimeZone = timeZone
        try setUpSession()
    }

    /// The settings the decoders rely on; run on every new session.
    func setUpSession() throws {
        _ = try run(
            """
            select set_config('DateStyle', 'ISO, MDY', false), set_config('IntervalStyle', 'postgres', false),
                set_config('bytea_output', 'hex', false), set_config('TimeZone', coalesce($1, current_setting('TimeZone')), false)
            """, [sessionTimeZone], statement: "session setup")
    }

    /// Ends the session, after a transaction another task is running. Later calls fail with a
    /// connection error; closing twice is harmless.
    public func close() async {
        await awaitTurn()
        guard let handle else { return }
        PQfinish(handle)
        self.handle = nil
        canceller = nil
    }

    /// A yes/no fact about the server that a caller read before on this session (nil: not read yet),
    /// so a hot path asks once per session instead of once per statement.
    public func sessionFact(_ name: String) -> Bool? {
        sessionFacts[name]
    }

    /// Keeps a fact read from the server for the rest of this session (see `sessionFact`).
    public func rememberSessionFact(_ name: String, _ value: Bool) {
        sessionFacts[name] = value
    }

    /// Whether `close()` was called or the server dropped the session.
    public var isClosed: Bool {
        guard let handle else { return true }
        return PQstatus(handle) != CONNECTION_OK
    }

    /// Open, and not inside a transaction: safe to hand to another user (the pool asks this).
    var isIdle: Bool {
        guard let handle, PQstatus(handle) == CONNECTION_OK else { return false }
        return PQtransactionStatus(handle) == PQTRANS_IDLE
    }

    /// The server process serving this session, as `pg_stat_activity.pid` shows it.
    public var backendPID: Int32 {
        handle.map { PQbackendPID($0) } ?? 0
    }

    func liveHandle() throws -> OpaquePointer {
        // Every libpq call goes through here: a cheap check, in debug builds, that it is on our thread.
        assert(executor.isCurrentThread, "libpq call off the connection's thread")
        guard let handle else {
            throw PostgresError(
                kind: .connectionFailed, sqlState: .connectionException,
                message: "the connection to \(target) is closed; fix: open a new connection")
        }
        return handle
    }

    /// Runs `operation` (which blocks this thread in libpq) so that cancelling the calling task
    /// asks the server to cancel the statement.
    func cancellable<Value>(_ operation: () throws -> Value) async throws -> Value {
        await awaitTurn()
        try Task.checkCancellation()
        // Outside any transaction (no task holds the session) a dropped session may be replaced.
        if !sessionHeld { reviveIfDropped() }
        guard let canceller else { return try operation() }
        canceller.begin()
        defer { canceller.end() }
        return try await withTaskCancellationHandler {
            // Using `self` makes this closure actor-isolated; without it the closure would be
            // nonisolated and the blocking libpq call would run on the cooperative pool.
            try self.onConnectionThread(operation)
        } onCancel: {
            canceller.cancel()
        }
    }

    private func onConnectionThread<Value>(_ operation: () throws -> Value) rethrows -> Value {
        try operation()
    }
}

/// Calls `body` with a NUL-terminated copy of each string, valid only during the call.
private func withCStrings<Result>(
    _ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> Result
) -> Result {
    let copies = strings.map { strdup($0) } + [nil]
    defer { copies.forEach { free($0) } }
    return copies.map { $0.map { UnsafePointer($0) } }.withUnsafeBufferPointer { body($0.baseAddress!) }
}

/// Owns the `PGconn` and finishes it when the connection is dropped without `close()`.
///
/// A class, because an actor's nonisolated deinit may not touch a non-Sendable stored property;
/// only the actor reads or writes `handle`, and the deinit runs when nothing else can.
private final class HandleOwner: @unchecked Sendable {
    var handle: OpaquePointer?

    deinit {
        if let handle { PQfinish(handle) }
    }
}
