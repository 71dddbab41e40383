import PostgresClient
import TestSupport
import Testing

@Suite("Advisory locks")
struct AdvisoryLockTests {
    @Test("an advisory lock excludes a second holder until it is released")
    func excludesSecondHolder() async throws {
        try await TestDatabase.with { database in
            let first = try await database.connect()
            let second = try await database.connect()
            let key = PostgresConnection.advisoryLockKey("webhotelier:property:1234")
            #expect(try await first.tryAdvisoryLock(key))
            #expect(try await !second.tryAdvisoryLock(key))
            #expect(try await second.tryAdvisoryLock(key &+ 1))
            #expect(try await first.advisoryUnlock(key))
            #expect(try await second.tryAdvisoryLock(key))
            #expect(try await !first.tryAdvisoryLock(key))
            #expect(try await !first.advisoryUnlock(key))
            await first.close()
            await second.close()
        }
    }

    @Test("advisoryLock waits for the holder, and a cancelled waiter stops waiting")
    func waits() async throws {
        try await TestDatabase.with { database in
            let holder = try await database.connect()
            let waiter = try await database.connect()
            let key = PostgresConnection.advisoryLockKey("migrate")
            try await holder.advisoryLock(key)
            let waiting = Task { try await waiter.advisoryLock(key) }
            try await Task.sleep(for: .milliseconds(200))
            waiting.cancel()
            let error = await #expect(throws: PostgresError.self) { try await waiting.value }
            #expect(error?.sqlState == .queryCanceled)

            let acquired = Task { try await waiter.withAdvisoryLock(key) { _ in "ran" } }
            try await Task.sleep(for: .milliseconds(200))
            try await holder.advisoryUnlock(key)
            #expect(try await acquired.value == "ran")
            // withAdvisoryLock released it again.
            #expect(try await holder.tryAdvisoryLock(key))
            await holder.close()
            await waiter.close()
        }
    }

    @Test("lock keys are FNV-1a 64 of the name: stable across processes and releases")
    func keys() {
        #expect(PostgresConnection.advisoryLockKey("") == Int64(bitPattern: 0xcbf2_9ce4_8422_2325))
        #expect(PostgresConnection.advisoryLockKey("a") == Int64(bitPattern: 0xaf63_dc4c_8601_ec8c))
        #expect(PostgresConnection.advisoryLockKey("foobar") == Int64(bitPattern: 0x85944171f73967e8))
        #expect(PostgresConnection.advisoryLockKey("p1") != PostgresConnection.advisoryLockKey("p2"))
    }
}
