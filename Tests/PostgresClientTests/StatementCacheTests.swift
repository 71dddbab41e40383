import Foundation
import PostgresClient
import TestSupport
import Testing

/// The per-session statement cache: a statement run again is prepared once and run by name,
/// and a cached statement keeps working when the session or its table changes under it.
/// The restart and ALTER cases run on a cluster of their own.
@Suite("Statement cache")
struct StatementCacheTests {
    static let lookup = "select id, note from notes where id = $1"

    @Test("a statement run again is prepared once on the session and then run by name")
    func preparesOnce() async throws {
        try await TestDatabase.withConnection { conn in
            try await conn.execute("create table notes (id int primary key, note text)")
            try await conn.execute("insert into notes values (1, 'one'), (2, 'two')")
            for id in [1, 2, 1, 2] {
                let rows = try await conn.query(Self.lookup, [id])
                #expect(try rows.first?.decode(String.self, at: 1) == (id == 1 ? "one" : "two"))
            }
            #expect(try await Self.serverPrepared(Self.lookup, on: conn) == 1)
            #expect(await conn.preparedStatementCount >= 1)
        }
    }

    @Test("after a server restart the session is replaced and its statements prepared again, with no error")
    func reprepareAfterRestart() async throws {
        try await Self.withScratchCluster { cluster in
            let conn = try await PostgresConnection.connect(cluster.url)
            await conn.revivesDroppedSessions()
            try await conn.execute("create table notes (id int primary key, note text)")
            try await conn.execute("insert into notes values (1, 'one')")
            for _ in 0..<3 { _ = try await conn.query(Self.lookup, [1]) }
            #expect(try await Self.serverPrepared(Self.lookup, on: conn) == 1)
            let before = await conn.backendPID

            try await cluster.stopFast()
            try await cluster.startServer()
            let logBefore = try Self.errorLines(cluster)

            // Outside a transaction and inside one: the caller sees rows, not the restart.
            let rows = try await conn.query(Self.lookup, [1])
            #expect(try rows.first?.decode(String.self, at: 1) == "one")
            let inTransaction = try await conn.transaction { tx in try await tx.query(Self.lookup, [1]) }
            #expect(inTransaction.count == 1)
            #expect(await conn.backendPID != before)
            #expect(try await Self.serverPrepared(Self.lookup, on: conn) == 1)
            // No statement was sent to the new session under a name it never prepared.
            #expect(try Self.errorLines(cluster) == logBefore, "the server refused a statement after the restart")
            await conn.close()
        }
    }

    @Test("after an ALTER changes a cached statement's result type, it is prepared again, with no error")
    func reprepareAfterResultTypeChange() async throws {
        try await Self.withScratchCluster { cluster in
            let conn = try await PostgresConnection.connect(cluster.url)
            let migration = try await PostgresConnection.connect(cluster.url)
            try await conn.execute("create table notes (id int primary key, note text)")
            try await conn.execute("insert into notes values (1, 'one')")
            let everything = "select * from notes where id = $1"
            for _ in 0..<3 {
                _ = try await conn.query(everything, [1])
                _ = try await conn.transaction { tx in try await tx.query(everything, [1]) }
            }
            #expect(try await Self.serverPrepared(everything, on: conn) == 1)

            // Outside a transaction: the refused statement runs again at once.
            try await migration.execute("alter table notes add column stars int not null default 5")
            let rows = try await conn.query(everything, [1])
            #expect(rows.columns.count == 3)
            #expect(try rows.first?.decode(Int.self, at: 2) == 5)
            _ = try await conn.query(everything, [1])
            #expect(try await Self.serverPrepared(everything, on: conn) == 1)

            // Inside a transaction: it aborts the transaction, which runs its body once more.
            try await migration.execute("alter table notes add column seen boolean not null default true")
            var bodyRuns = 0
            let inTransaction = try await conn.transaction { tx in
                bodyRuns += 1
                return try await tx.query(everything, [1])
            }
            #expect(inTransaction.columns.count == 4)
            #expect(try inTransaction.first?.decode(Bool.self, at: 3) == true)
            #expect(bodyRuns == 2)
            #expect(try await Self.serverPrepared(everything, on: conn) == 1)
            await conn.close()
            await migration.close()
        }
    }

    /// Statements with this text prepared on the connection's session, as the server lists them.
    static func serverPrepared(_ sql: String, on conn: PostgresConnection) async throws -> Int {
        // Spelled as a literal so that this probe is not itself one of the statements counted.
        let escaped = sql.replacingOccurrences(of: "'", with: "''")
        return try await conn.query("select count(*)::int from pg_prepared_statements where statement = '\(escaped)'")
            .first!.decode(Int.self, at: 0)
    }

    /// The server's ERROR lines so far.
    static func errorLines(_ cluster: ScratchCluster) throws -> [String] {
        try String(contentsOf: cluster.logFile, encoding: .utf8).split(separator: "\n")
            .filter { $0.contains("ERROR:") }.map(String.init)
    }

    static func withScratchCluster(_ body: (ScratchCluster) async throws -> Void) async throws {
        let cluster = try await ScratchCluster.start()
        do {
            try await body(cluster)
        } catch {
            await cluster.destroy()
            throw error
        }
        await cluster.destroy()
    }
}
