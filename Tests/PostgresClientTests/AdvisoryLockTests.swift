import PostgresClient
import Synchronization
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

    /// The server's own view proves each wait: the waiter is seen blocked on the advisory lock
    /// before it is cancelled or before the holder lets go, and the body has not run meanwhile.
    @Test("advisoryLock waits for the holder, and a cancelled waiter stops waiting")
    func waits() async throws {
        try await TestDatabase.with { database in
            let holder = try await database.connect()
            let waiter = try await database.connect()
            let observer = try await database.connect()
            let waiterPID = await waiter.backendPID
            let key = PostgresConnection.advisoryLockKey("migrate")
            try await holder.advisoryLock(key)
            let waiting = Task { try await waiter.advisoryLock(key) }
            #expect(try await ServerActivity.waitUntil(waiterPID, waitsOn: "advisory", observer: observer))
            waiting.cancel()
            let error = await #expect(throws: PostgresError.self) { try await waiting.value }
            #expect(error?.sqlState == .queryCanceled)

            let ran = Flag()
            let acquired = Task {
                try await waiter.withAdvisoryLock(key) { _ in
                    ran.set()
                    return "ran"
                }
            }
            #expect(try await ServerActivity.waitUntil(waiterPID, waitsOn: "advisory", observer: observer))
            #expect(!ran.isSet, "the body ran while another session held the lock")
            try await holder.advisoryUnlock(key)
            #expect(try await acquired.value == "ran")
            // withAdvisoryLock released it again.
            #expect(try await holder.tryAdvisoryLock(key))
            await holder.close()
            await waiter.close()
            await observer.close()
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

/// Set once from any task, read from another.
final class Flag: Sendable {
    private let value = Atomic<Bool>(false)

    func set() { value.store(true, ordering: .sequentiallyConsistent) }
    var isSet: Bool { value.load(ordering: .sequentiallyConsistent) }
}
