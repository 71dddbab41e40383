/// A small pool of connections for the server parts: at most `maxConnections` open, each used by one task at a time.
public actor PostgresPool {
    private let conninfo: String
    private let applicationName: String
    /// The most connections open at once; further callers wait their turn.
    public nonisolated let maxConnections: Int
    private var idle: [PostgresConnection] = []
    /// Connections open, being opened, or lent out.
    private var openCount = 0
    /// Tasks waiting for a connection, oldest first. A waiter resumed with nil owns an open slot
    /// and opens its own connection.
    private var waiters: [(id: Int, continuation: CheckedContinuation<PostgresConnection?, any Error>)] = []
    private var nextWaiterID = 0
    private var isClosed = false

    public init(_ conninfo: String, maxConnections: Int = 4, applicationName: String = "ota-ingest") {
        precondition(maxConnections > 0, "a pool needs at least one connection")
        self.conninfo = conninfo
        self.maxConnections = maxConnections
        self.applicationName = applicationName
    }

    /// Lends a connection to `body`, waiting for one if all are in use, and takes it back after.
    ///
    /// A connection the body leaves inside a transaction, or broken, is closed rather than reused.
    public func withConnection<Value>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> sending Value
    ) async throws -> sending Value {
        let connection = try await acquire()
        let value: Value
        do {
            value = try await body(connection)
        } catch {
            await release(connection)
            throw error
        }
        await release(connection)
        return value
    }

    /// Closes idle connections now and the others as they come back; waiting callers get an error.
    public func close() async {
        isClosed = true
        let waiting = waiters
        waiters.removeAll()
        for waiter in waiting { waiter.continuation.resume(throwing: Self.closedError) }
        let connections = idle
        idle.removeAll()
        openCount -= connections.count
        for connection in connections { await connection.close() }
    }

    private func acquire() async throws -> PostgresConnection {
        guard !isClosed else { throw Self.closedError }
        if let connection = idle.popLast() { return connection }
        if openCount < maxConnections {
            openCount += 1
            return try await openConnection()
        }
        nextWaiterID += 1
        let id = nextWaiterID
        let handed = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                waiters.append((id, continuation))
            }
        } onCancel: {
            Task { await self.cancelWaiter(id) }
        }
        if let handed { return handed }
        return try await openConnection()
    }

    /// Opens a connection for a slot already counted in `openCount`.
    private func openConnection() async throws -> PostgresConnection {
        do {
            return try await PostgresConnection.connect(conninfo, applicationName: applicationName)
        } catch {
            openCount -= 1
            handSlotToWaiter()
            throw error
        }
    }

    private func release(_ connection: PostgresConnection) async {
        if !isClosed, await connection.isIdle {
            if waiters.isEmpty {
                idle.append(connection)
            } else {
                waiters.removeFirst().continuation.resume(returning: connection)
            }
            return
        }
        await connection.close()
        openCount -= 1
        handSlotToWaiter()
    }

    private func handSlotToWaiter() {
        guard !isClosed, !waiters.isEmpty, openCount < maxConnections else { return }
        openCount += 1
        waiters.removeFirst().continuation.resume(returning: nil)
    }

    private func cancelWaiter(_ id: Int) {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return }
        waiters.remove(at: index).continuation.resume(throwing: CancellationError())
    }

    private static var closedError: PostgresError {
        PostgresError(
            kind: .connectionFailed, sqlState: .connectionException,
            message: "the connection pool is closed; fix: use the pool only before close()")
    }
}
