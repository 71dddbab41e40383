import Foundation
import PostgresClient
import TestSupport
import Testing

@Suite("Parameters")
struct ParameterTests {
    static let awkwardStrings = [
        "o'hara", "it''s", "\"double\"", "back\\slash", "\\x00", "tab\there", "new\nline", "cr\rlf",
        "ünïcödé ελληνικά 日本語", "emoji 🏨🛏️👨‍👩‍👧", "'; drop table guests; --", "1' or '1'='1",
        "$1", "E'\\n'", "", " ", "\u{7F}", "\u{FEFF}bom",
    ]

    @Test("strings with quotes, backslashes, unicode, emoji and SQL injection round-trip unchanged")
    func awkwardStringsRoundTrip() async throws {
        try await TestDatabase.withConnection { conn in
            try await conn.execute("create table notes (id int primary key, body text)")
            for (id, text) in Self.awkwardStrings.enumerated() {
                let echoed = try await conn.query("select $1::text", [text]).first!.decode(String.self, at: 0)
                #expect(echoed == text)
                try await conn.execute("insert into notes values ($1, $2)", [id, text])
            }
            let stored = try await conn.query("select body from notes order by id").map {
                try $0.decode(String.self, at: 0)
            }
            #expect(stored == Self.awkwardStrings)
            // The injection attempt was data: the table is still there with every row.
            #expect(
                try await conn.query("select count(*) from notes").first!.decode(Int.self, at: 0)
                    == Self.awkwardStrings.count)
        }
    }

    @Test("every bindable type reaches the server as the value it is")
    func bindableTypes() async throws {
        try await TestDatabase.withConnection { conn in
            let date = Date(timeIntervalSince1970: 1_741_953_845.123456)
            let row = try await conn.query(
                """
                select $1::bigint = 9223372036854775807, $2::int = -2147483648, $3::bigint = -42, $4::float8 = 0.1,
                    $5::bool, $6::numeric = 12345678901234567890.123456789, $7::timestamptz = '2025-03-14 12:04:05.123456+00',
                    $8::date = '2025-03-14', $9::bytea = '\\x00ff5c27'::bytea, $10::jsonb = '{"a": [1, "x"]}',
                    $11::text is null, $12::text = 'sub', $13::float8 = 'Infinity', $14::int is null
                """,
                [
                    Int.max, Int32.min, Int64(-42), 0.1, true, Decimal(string: "12345678901234567890.123456789")!, date,
                    PostgresDate(year: 2025, month: 3, day: 14)!, [UInt8]([0x00, 0xFF, 0x5C, 0x27]),
                    PostgresJSON(#"{"a":[1,"x"]}"#), nil, "substring"[...].prefix(3), Double.infinity, Int?.none,
                ]
            ).first!
            for column in 0..<row.count {
                #expect(try row.decode(Bool.self, at: column), "parameter $\(column + 1)")
            }
        }
    }

    @Test("a string parameter feeds a column of another type, as a literal would")
    func untypedStrings() async throws {
        try await TestDatabase.withConnection { conn in
            try await conn.execute("create table stays (night date, guests int, id uuid)")
            try await conn.execute(
                "insert into stays values ($1, $2, $3)", ["2025-03-14", "2", "5b6f1c1e-8a3a-4a51-9a43-1df0b6b1a5c1"])
            let row = try await conn.query("select night, guests from stays").first!
            #expect(try row.decode(PostgresDate.self, column: "night") == PostgresDate(year: 2025, month: 3, day: 14))
            #expect(try row.decode(Int.self, column: "guests") == 2)
        }
    }

    @Test("a NUL character in a text parameter is refused before it is sent, naming the parameter, not the value")
    func nulCharacterRefused() async throws {
        try await TestDatabase.withConnection { conn in
            let error = await #expect(throws: PostgresError.self) {
                try await conn.query("select $1::text, $2::text", ["fine", "secret\u{0}tail"])
            }
            #expect(error?.kind == .client)
            #expect(error?.sqlState == .characterNotInRepertoire)
            #expect(error?.message.contains("$2") == true)
            #expect(error?.description.contains("secret") == false)
            let stillUsable = try await conn.query("select 1")
            #expect(stillUsable.count == 1)
        }
    }

    @Test("prepared statements run by name, and their errors name the statement")
    func preparedStatements() async throws {
        try await TestDatabase.withConnection { conn in
            try await conn.execute("create table rooms (code text primary key, beds int)")
            try await conn.prepare(name: "insert_room", sql: "insert into rooms values ($1, $2)")
            for (code, beds) in [("DBL", 2), ("TRP", 3)] {
                _ = try await conn.executePrepared(name: "insert_room", [code, beds])
            }
            #expect(try await conn.query("select sum(beds) from rooms").first!.decode(Int.self, at: 0) == 5)
            let error = await #expect(throws: PostgresError.self) {
                try await conn.executePrepared(name: "insert_room", ["DBL", 9])
            }
            #expect(error?.sqlState == .uniqueViolation)
            #expect(error?.statement == "insert_room")
        }
    }

    @Test("a script of several statements runs in one call")
    func script() async throws {
        try await TestDatabase.withConnection { conn in
            try await conn.executeScript(
                """
                -- a migration-like script
                create schema ops;
                create table ops.runs (id bigint generated always as identity, command text not null);
                insert into ops.runs (command) values ('migrate'), ('nightly');
                """)
            #expect(try await conn.query("select count(*) from ops.runs").first!.decode(Int.self, at: 0) == 2)
            let error = await #expect(throws: PostgresError.self) {
                try await conn.executeScript("create table ops.more (x int);\nselect * from ops.missing;")
            }
            #expect(error?.sqlState == .undefinedTable)
            // The failing script ran as one implicit transaction, so its first statement is gone too.
            #expect(try await conn.query("select to_regclass('ops.more') is null").first!.decode(Bool.self, at: 0))
        }
    }
}
