import Foundation
import PostgresClient
import Synchronization
import TestSupport
import Testing

@Suite("Pool and threads")
struct PoolAndThreadTests {
    /// Every task notes the connection it holds while it holds it, and blocks on an advisory lock
    /// the test holds until the server shows both pooled connections waiting on it: a connection
    /// lent to a second task before the first gave it back shows up as a backend held twice.
    /// Two rounds: the first opens the connections, the second lends them from the idle list.
    @Test("a pool opens at most maxConnections and lends each to one task at a time")
    func poolBound() async throws {
        try await TestDatabase.with { database in
            let pool = PostgresPool(database.url, maxConnections: 2)
            let observer = try await database.connect()
            let gate = Int64.random(in: 1...Int64.max)
            let lent = Lent()
            var pids = Set<Int32>()
            for round in 1...2 {
                try await observer.advisoryLock(gate)
                let tasks = Task {
                    try await withThrowingTaskGroup(of: Int32.self) { group in
                        for _ in 0..<12 {
                            group.addTask {
                                try await pool.withConnection { conn in
                                    let pid = await conn.backendPID
                                    lent.take(pid)
                                    _ = try await conn.query("select pg_advisory_xact_lock_shared($1)", [gate])
                                    lent.give(pid)
                                    return pid
                                }
                            }
                        }
                        return try await group.reduce(into: Set<Int32>()) { $0.insert($1) }
                    }
                }
                let bothBusy = try await ServerActivity.poll {
                    try await observer.query(
                        "select 1 from pg_stat_activity where datname = current_database() and wait_event = 'advisory'"
                    ).count == 2
                }
                #expect(bothBusy, "round \(round): two pooled connections should be waiting on the gate")
                #expect(lent.mostAtOnce == 2, "round \(round): two tasks hold connections while the gate is shut")
                try await observer.advisoryUnlock(gate)
                pids.formUnion(try await tasks.value)
            }
            #expect(pids.count == 2)
            #expect(lent.sharedHolds == 0, "a connection was lent to two tasks at once")
            await observer.close()
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

/// Which backends are lent out right now, as the borrowing tasks report it.
final class Lent: Sendable {
    private let state = Mutex<(holders: [Int32: Int], mostAtOnce: Int, sharedHolds: Int)>(([:], 0, 0))

    func take(_ pid: Int32) {
        state.withLock { state in
            if state.holders[pid, default: 0] > 0 { state.sharedHolds += 1 }
            state.holders[pid, default: 0] += 1
            state.mostAtOnce = max(state.mostAtOnce, state.holders.values.reduce(0, +))
        }
    }

    func give(_ pid: Int32) { state.withLock { $0.holders[pid, default: 0] -= 1 } }
    var sharedHolds: Int { state.withLock { $0.sharedHolds } }
    var mostAtOnce: Int { state.withLock { $0.mostAtOnce } }
}
