import Foundation
import PostgresClient
import TestSupport
import Testing

@Suite("Pool and threads")
struct PoolAndThreadTests {
    @Test("a pool opens at most maxConnections and lends each to one task at a time")
    func poolBound() async throws {
        try await TestDatabase.with { database in
            let pool = PostgresPool(database.url, maxConnections: 2)
            let pids = try await withThrowingTaskGroup(of: Int32.self) { group in
                for _ in 0..<12 {
                    group.addTask {
                        try await pool.withConnection { conn in
                            _ = try await conn.query("select pg_sleep(0.02)")
                            return await conn.backendPID
                        }
                    }
                }
                return try await group.reduce(into: Set<Int32>()) { $0.insert($1) }
            }
            #expect(pids.count <= 2)
            await pool.close()
        }
    }

    @Test("a connection returned inside a transaction or closed is replaced, not reused")
    func poolDiscardsDirtyConnections() async throws {
        try await TestDatabase.with { database in
            let pool = PostgresPool(database.url, maxConnections: 1)
            let first = try await pool.withConnection { conn in
                try await conn.execute("begin")
                try await conn.execute("create temp table leftover (x int)")
                return await conn.backendPID
            }
            let second = try await pool.withConnection { conn in await conn.backendPID }
            #expect(first != second)
            let leftover = try await pool.withConnection { conn in
                try await conn.query("select to_regclass('pg_temp.leftover') is not null").first!.decode(
                    Bool.self, at: 0)
            }
            #expect(leftover == false)
            await pool.close()
            await #expect(throws: PostgresError.self) { try await pool.withConnection { _ in } }
        }
    }

    @Test("blocking statements on four connections run at once, off Swift's cooperative pool")
    func dedicatedThreads() async throws {
        try await TestDatabase.with { database in
            var connections: [PostgresConnection] = []
            for _ in 0..<4 { connections.append(try await database.connect()) }
            let start = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for conn in connections {
                    group.addTask { _ = try await conn.query("select pg_sleep(1)") }
                }
                // The cooperative pool stays free: this task still gets to run meanwhile.
                group.addTask {
                    try await Task.sleep(for: .milliseconds(100))
                    #expect(ContinuousClock.now - start < .milliseconds(900))
                }
                try await group.waitForAll()
            }
            // Four 1-second sleeps on a 2-thread pool would take 2 seconds if they blocked it.
            #expect(ContinuousClock.now - start < .milliseconds(1900))
            for conn in connections { await conn.close() }
        }
    }
}
