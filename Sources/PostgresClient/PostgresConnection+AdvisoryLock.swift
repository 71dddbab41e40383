extension PostgresConnection {
    /// Takes the session-level advisory lock `key` if nobody holds it; returns whether it did.
    public func tryAdvisoryLock(_ key: Int64) async throws -> Bool {
        try await query("select pg_try_advisory_lock($1)", [key]).first!.decode(Bool.self, at: 0)
    }

    /// Waits for the session-level advisory lock `key`. Cancelling the task cancels the wait
    /// (the call then throws `.queryCanceled`); `lock_timeout` bounds it too.
    public func advisoryLock(_ key: Int64) async throws {
        _ = try await query("select pg_advisory_lock($1)", [key])
    }

    /// Releases one hold of the advisory lock `key`; returns false if this session did not hold it.
    @discardableResult
    public func advisoryUnlock(_ key: Int64) async throws -> Bool {
        // Not cancellable: an unlock must run even in a cancelled task, or the lock outlives it.
        try PostgresResult(storage: run("select pg_advisory_unlock($1)", [key], statement: "advisory unlock"))
            .first!.decode(Bool.self, at: 0)
    }

    /// Holds the advisory lock `key` while `body` runs, waiting for it first; releases it however the body ends.
    public func withAdvisoryLock<Value: Sendable>(
        _ key: Int64, _ body: @Sendable (isolated PostgresConnection) async throws -> Value
    ) async throws -> Value {
        try await advisoryLock(key)
        let value: Value
        do {
            value = try await body(self)
        } catch {
            _ = try? await advisoryUnlock(key)
            throw error
        }
        try await advisoryUnlock(key)
        return value
    }

    /// A stable advisory-lock key for a name, e.g. `"webhotelier:property:1234"`.
    ///
    /// FNV-1a 64 over the name's UTF-8 bytes, computed here rather than with the server's
    /// `hashtextextended`, whose values PostgreSQL does not promise to keep across major
    /// versions; processes of any version of this tool agree on the key for a name.
    public static func advisoryLockKey(_ name: String) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return Int64(bitPattern: hash)
    }
}
