import PostgresClient
import TestSupport
import Testing

@Suite("Errors")
struct ErrorTests {
    @Test("a unique violation surfaces SQLSTATE 23505 with detail, constraint and statement, never the parameters")
    func uniqueViolation() async throws {
        try await TestDatabase.withConnection { conn in
            try await conn.execute("create table guests (id int primary key, email text)")
            try await conn.execute("insert into guests values ($1, $2)", [42, "first@example.com"])
            let error = await #expect(throws: PostgresError.self) {
                try await conn.execute(
                    """
                    insert into guests values ($1, $2)
                    -- a second line the summary leaves out
                    """, [42, "second-secret@example.com"])
            }
            #expect(error?.kind == .server)
            #expect(error?.sqlState == .uniqueViolation)
            #expect(error?.sqlState.errorClass == "23")
            #expect(error?.message == #"duplicate key value violates unique constraint "guests_pkey""#)
            // The server's detail echoes the key, which callers must treat as row data.
            #expect(error?.detail == "Key (id)=(42) already exists.")
            #expect(error?.constraintName == "guests_pkey")
            #expect(error?.tableName == "guests")
            #expect(error?.statement == "insert into guests values ($1, $2)")
            let description = error.map(String.init(describing:)) ?? ""
            #expect(description.contains("23505"))
            #expect(!description.contains("second-secret"))
            #expect(!description.contains("\n"))
        }
    }

    @Test("an error names its statement by the first non-blank line, trimmed, whatever the line breaks")
    func statementSummary() async throws {
        try await TestDatabase.withConnection { conn in
            let error = await #expect(throws: PostgresError.self) {
                try await conn.execute("\n  \r\n\t select * from no_such_table_here  \r\n where true\n")
            }
            #expect(error?.statement == "select * from no_such_table_here")
            let long = "select " + String(repeating: "1 + ", count: 60) + "x"
            let capped = await #expect(throws: PostgresError.self) { try await conn.execute(long) }
            #expect(capped?.statement == String(long.prefix(117)) + "...")
        }
    }

    @Test("common failures carry their SQLSTATE")
    func sqlStates() async throws {
        try await TestDatabase.withConnection { conn in
            let cases: [(String, SQLState)] = [
                ("select * from no_such_table", .undefinedTable),
                ("select 'abc'::int", .invalidTextRepresentation),
                ("selec 1", .syntaxError),
                ("select 1/0", .divisionByZero),
                ("select '{\"a\": \"\\u0000\"}'::jsonb", .untranslatableCharacter),
            ]
            for (sql, state) in cases {
                let error = await #expect(throws: PostgresError.self) { try await conn.query(sql) }
                #expect(error?.sqlState == state, "\(sql)")
            }
            try await conn.execute("set lock_timeout = '50ms'")
            #expect(try await conn.query("select 1").count == 1)
        }
    }

    /// The cancel comes once the server shows the statement running (a cancel before it starts
    /// throws CancellationError instead, which is another path).
    @Test("a cancelled task cancels its running statement on the server (57014) and the connection stays usable")
    func cancellation() async throws {
        try await TestDatabase.with { database in
            let conn = try await database.connect()
            let observer = try await database.connect()
            let pid = await conn.backendPID
            let sleeper = Task { try await conn.query("select pg_sleep(30)") }
            #expect(try await ServerActivity.waitUntil(pid, waitsOn: "PgSleep", observer: observer))
            sleeper.cancel()
            let error = await #expect(throws: PostgresError.self) { try await sleeper.value }
            #expect(error?.sqlState == .queryCanceled)
            #expect(try await conn.query("select 1").count == 1)
            await conn.close()
            await observer.close()
        }
    }

    @Test("a server that is down gives one line naming the target and the fix, never the password")
    func serverDown() async throws {
        let error = await #expect(throws: PostgresError.self) {
            try await PostgresConnection.connect("postgresql://loader:s3cret-pw@127.0.0.1:1/ota_ingest")
        }
        #expect(error?.kind == .connectionFailed)
        let message = error?.description ?? ""
        #expect(message.hasPrefix("cannot connect to PostgreSQL at 127.0.0.1:1/ota_ingest: Connection refused; fix: "))
        #expect(message.contains("make db-start"))
        #expect(!message.contains("s3cret"))
        #expect(!message.contains("\n"))
    }

    @Test("a malformed connection string gives one line without echoing its parts")
    func badConninfo() async throws {
        for conninfo in ["postgresql://loader:s3cret%zz@127.0.0.1/db", "host=localhost password s3cret"] {
            let error = await #expect(throws: PostgresError.self) { try await PostgresConnection.connect(conninfo) }
            let message = error?.description ?? ""
            #expect(message.hasPrefix("cannot connect to PostgreSQL: the connection string is invalid"), "\(message)")
            #expect(message.contains("fix: "))
            #expect(!message.contains("s3cret"), "\(message)")
            #expect(!message.contains("\n"))
        }
    }

    @Test("a database that does not exist names the database and the fix")
    func missingDatabase() async throws {
        let admin = try TestDatabase.adminURL()
        let error = await #expect(throws: PostgresError.self) {
            try await PostgresConnection.connect(
                admin + (admin.contains("://") ? "_no_such_db" : " dbname=postgres_no_such_db"))
        }
        let message = error?.description ?? ""
        #expect(message.contains(#"/postgres_no_such_db: database "postgres_no_such_db" does not exist; "#))
        #expect(message.contains("fix: create the database or correct its name in DATABASE_URL"))
    }

    @Test("a closed connection says so")
    func closed() async throws {
        try await TestDatabase.withConnection { conn in
            await conn.close()
            #expect(await conn.isClosed)
            let error = await #expect(throws: PostgresError.self) { try await conn.query("select 1") }
            #expect(error?.kind == .connectionFailed)
            #expect(error?.message.contains("is closed") == true)
        }
    }
}
