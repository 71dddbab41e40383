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

    /// Four blocking statements are seen waiting at the same moment by the server
    /// itself (no wall-clock bound, so a busy machine cannot fail it): on Swift's
    /// two-thread cooperative pool at most two could block at once. They wait on an
    /// advisory lock the observer holds until it has counted them (or gives up).
    @Test("blocking statements on four connections run at once, off Swift's cooperative pool")
    func dedicatedThreads() async throws {
        try await TestDatabase.with { database in
            var connections: [PostgresConnection] = []
            for _ in 0..<4 { connections.append(try await database.connect()) }
            let observer = try await database.connect()
            let key = Int64.random(in: 1...Int64.max)
            try await observer.advisoryLock(key)
            let peak = try await withThrowingTaskGroup(of: Int.self) { group in
                for conn in connections {
                    group.addTask {
                        try await conn.execute("set lock_timeout = '60s'")
                        _ = try await conn.query("select pg_advisory_lock_shared($1)", [key])
                        return 0
                    }
                }
                group.addTask {
                    var peak = 0
                    for _ in 0..<400 where peak < 4 {
                        let waiting = try await observer.query(
                            """
                            select count(*)::int from pg_locks
                            where locktype = 'advisory' and not granted and mode = 'ShareLock'
                              and database = (select oid from pg_database where datname = current_database())
                            """)
                        peak = max(peak, try waiting[0].decode(Int.self, at: 0))
                        if peak < 4 { try await Task.sleep(for: .milliseconds(50)) }
                    }
                    _ = try await observer.advisoryUnlock(key)
                    return peak
                }
                return try await group.reduce(0) { max($0, $1) }
            }
            #expect(peak == 4, "at most \(peak) statements ran at once")
            for conn in connections { await conn.close() }
            await observer.close()
        }
    }
}
