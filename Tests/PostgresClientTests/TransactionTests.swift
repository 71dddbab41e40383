import PostgresClient
import TestSupport
import Testing

@Suite("Transactions")
struct TransactionTests {
    struct BodyFailed: Error, Equatable {}

    @Test("a transaction commits when its body returns, and returns the body's value")
    func commits() async throws {
        try await TestDatabase.withConnection { conn in
            try await conn.execute("create table runs (id int)")
            // The body runs in the caller's isolation, so it may change the caller's local state.
            var statements = 0
            let inserted = try await conn.transaction { conn in
                statements += 1
                return try await conn.execute("insert into runs values (1), (2)")
            }
            #expect(inserted == 2)
            #expect(statements == 1)
            #expect(try await conn.query("select count(*) from runs").first!.decode(Int.self, at: 0) == 2)
        }
    }

    @Test("a transaction rolls back when its body throws, and rethrows the body's own error")
    func rollsBack() async throws {
        try await TestDatabase.withConnection { conn in
            try await conn.execute("create table runs (id int)")
            await #expect(throws: BodyFailed()) {
                try await conn.transaction { conn in
                    try await conn.execute("insert into runs values (1)")
                    throw BodyFailed()
                }
            }
            #expect(try await conn.query("select count(*) from runs").first!.decode(Int.self, at: 0) == 0)
            // Server errors inside the body roll back the same way and keep their SQLSTATE.
            let error = await #expect(throws: PostgresError.self) {
                try await conn.transaction { conn in
                    try await conn.execute("insert into runs values (2)")
                    try await conn.execute("insert into runs values ('not a number')")
                }
            }
            #expect(error?.sqlState == .invalidTextRepresentation)
            #expect(try await conn.query("select count(*) from runs").first!.decode(Int.self, at: 0) == 0)
        }
    }

    @Test("a body that swallows a server error cannot commit: the transaction is rolled back and reported")
    func swallowedError() async throws {
        try await TestDatabase.withConnection { conn in
            try await conn.execute("create table runs (id int)")
            let error = await #expect(throws: PostgresError.self) {
                try await conn.transaction { conn in
                    try await conn.execute("insert into runs values (1)")
                    _ = try? await conn.execute("select * from missing_table")
                }
            }
            #expect(error?.sqlState == .inFailedSQLTransaction)
            #expect(try await conn.query("select count(*) from runs").first!.decode(Int.self, at: 0) == 0)
        }
    }

    @Test("a nested transaction is a savepoint: its rollback keeps the outer work")
    func nested() async throws {
        try await TestDatabase.withConnection { conn in
            try await conn.execute("create table runs (id int)")
            try await conn.transaction { conn in
                try await conn.execute("insert into runs values (1)")
                try? await conn.transaction { conn in
                    try await conn.execute("insert into runs values (2)")
                    throw BodyFailed()
                }
                try await conn.transaction { conn in
                    try await conn.execute("insert into runs values (3)")
                }
            }
            let ids = try await conn.query("select id from runs order by id").map { try $0.decode(Int.self, at: 0) }
            #expect(ids == [1, 3])
        }
    }

    @Test("transactions from many tasks on one connection never interleave, even when their bodies suspend")
    func fromOtherTasks() async throws {
        try await TestDatabase.withConnection { conn in
            try await conn.execute("create table counter (n int)")
            try await conn.execute("insert into counter values (0)")
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        try await conn.transaction { conn in
                            let n = try await conn.query("select n from counter").first!.decode(Int.self, at: 0)
                            // A real suspension: without the session hold another task's
                            // transaction would run here and an increment would be lost.
                            try await Task.sleep(for: .milliseconds(2))
                            try await conn.execute("update counter set n = $1", [n + 1])
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await conn.query("select n from counter").first!.decode(Int.self, at: 0) == 20)
            let fromMain = try await MainActorCaller.count(conn)
            #expect(fromMain == 20)
        }
    }
}

@MainActor
enum MainActorCaller {
    static func count(_ conn: PostgresConnection) async throws -> Int {
        try await conn.transaction { conn in
            try await conn.query("select n from counter").first!.decode(Int.self, at: 0)
        }
    }
}
