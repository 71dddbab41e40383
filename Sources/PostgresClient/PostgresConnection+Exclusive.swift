extension PostgresConnection {
    /// The connections whose session the current task (or a parent task) holds for a transaction.
    @TaskLocal static var heldSessions: Set<ObjectIdentifier> = []

    /// Whether the current task holds this session.
    var holdsSession: Bool { Self.heldSessions.contains(ObjectIdentifier(self)) }

    /// Waits while another task holds the session. An actor is reentrant: while a transaction's
    /// body awaits something else, another task's statement could otherwise run inside it.
    func awaitTurn() async {
        while sessionHeld && !holdsSession {
            await withCheckedContinuation { sessionWaiters.append($0) }
        }
    }

    /// Takes the session for the current task; returns false if it already held it.
    func holdSession() async -> Bool {
        if holdsSession { return false }
        await awaitTurn()
        sessionHeld = true
        return true
    }

    /// Lets the tasks waiting for the session go.
    func releaseSession() {
        sessionHeld = false
        let waiting = sessionWaiters
        sessionWaiters.removeAll()
        for waiter in waiting { waiter.resume() }
    }

    /// Runs `body` with the current task marked as holding this session.
    func whileHolding<Value>(
        isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> Value
    ) async throws -> Value {
        try await Self.$heldSessions.withValue(Self.heldSessions.union([ObjectIdentifier(self)])) {
            try await body()
        }
    }
}
