import Foundation
import PostgresClient
import TestSupport
import Testing

@Suite("Row decoding")
struct DecodingTests {
    @Test("every supported type decodes from its column, by position and by name")
    func everyType() async throws {
        try await TestDatabase.withConnection { conn in
            let result = try await conn.query(
                """
                select 'text'::text as text, 42::int2 as small, (-2147483648)::int4 as int, 9223372036854775807::int8 as big,
                    0.1::float8 as double, 'NaN'::float8 as nan, '-Infinity'::float8 as neg_inf, true as yes, false as no,
                    123.4500::numeric(10,4) as price, 'NaN'::numeric as numeric_nan,
                    12345678901234567890123456789012345678901234567890.5::numeric as huge,
                    '2025-03-14 12:04:05.123456+02'::timestamptz as stamp, '2025-03-14'::date as day,
                    '2025-03-14 23:59:59.999999'::timestamp as local_stamp, 'infinity'::timestamptz as forever,
                    '0044-03-15 BC'::date as ides, '{"b": 1, "a": [true, null]}'::jsonb as doc,
                    '\\x00ff5c'::bytea as bytes, ''::bytea as no_bytes
                """)
            #expect(result.count == 1)
            #expect(result.columns.map(\.name).first == "text")
            #expect(result.columns.first?.type == .text)
            let row = result[0]
            #expect(try row.decode(String.self, column: "text") == "text")
            #expect(row["text"].string == "text")
            #expect(row[0].string == "text")
            #expect(try row.decode(Int16.self, column: "small") == 42)
            #expect(try row.decode(Int.self, column: "small") == 42)
            #expect(try row.decode(Int32.self, column: "int") == Int32.min)
            #expect(try row.decode(Int64.self, column: "big") == Int64.max)
            #expect(try row.decode(Int.self, column: "big") == Int.max)
            #expect(try row.decode(Double.self, column: "double") == 0.1)
            #expect(try row.decode(Double.self, column: "nan").isNaN)
            #expect(try row.decode(Double.self, column: "neg_inf") == -.infinity)
            #expect(try row.decode(Bool.self, column: "yes") == true)
            #expect(try row.decode(Bool.self, column: "no") == false)
            #expect(try row.decode(Decimal.self, column: "price") == Decimal(string: "123.45"))
            #expect(try row.decode(String.self, column: "price") == "123.4500")
            #expect(try row.decode(Decimal.self, column: "numeric_nan").isNaN)
            // More digits than Decimal holds: refused rather than rounded; String keeps them exactly.
            #expect(throws: PostgresDecodingError.self) { try row.decode(Decimal.self, column: "huge") }
            #expect(
                try row.decode(String.self, column: "huge") == "12345678901234567890123456789012345678901234567890.5")
            #expect(
                try row.decode(Date.self, column: "stamp").microseconds == 1_741_946_645_123_456)
            #expect(try row.decode(Date.self, column: "day") == Date(timeIntervalSince1970: 1_741_910_400))
            #expect(try row.decode(PostgresDate.self, column: "day") == PostgresDate(year: 2025, month: 3, day: 14))
            #expect(
                try row.decode(Date.self, column: "local_stamp").microseconds == 1_741_996_799_999_999)
            #expect(try row.decode(Date.self, column: "forever") == .distantFuture)
            #expect(try row.decode(PostgresDate.self, column: "ides") == PostgresDate(year: -43, month: 3, day: 15))
            #expect(try row.decode(PostgresDate.self, column: "ides").description == "0044-03-15 BC")
            #expect(try row.decode(PostgresJSON.self, column: "doc").text == #"{"a": [true, null], "b": 1}"#)
            #expect(try row.decode([UInt8].self, column: "bytes") == [0x00, 0xFF, 0x5C])
            #expect(try row.decode(Data.self, column: "bytes") == Data([0x00, 0xFF, 0x5C]))
            #expect(try row.decode([UInt8].self, column: "no_bytes") == [])
            #expect(result.commandTag == "SELECT 1")
            #expect(result.affectedRows == 1)
        }
    }

    @Test("values survive a round trip through a table: dates at microsecond precision, bytes, JSON, NULLs")
    func roundTrip() async throws {
        try await TestDatabase.withConnection { conn in
            try await conn.execute(
                "create table t (at timestamptz, day date, raw bytea, doc jsonb, amount numeric, note text)")
            let instants = [
                Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: -1.5),
                Date(timeIntervalSince1970: 1_741_953_845.000001),
                Date(timeIntervalSinceReferenceDate: -63_113_904_000),  // 0001-01-01
                .distantFuture, .distantPast,
            ]
            let bytes: [UInt8] = Array(0...255)
            for instant in instants {
                try await conn.execute(
                    "insert into t values ($1, $2, $3, $4, $5, $6)",
                    [
                        instant, PostgresDate(instant), bytes, PostgresJSON(#"{"note": "tab\tand \"quote\""}"#),
                        Decimal(string: "-0.000001"), String?.none,
                    ])
            }
            let rows = try await conn.query("select * from t")
            for (row, instant) in zip(rows, instants) {
                #expect(try row.decode(Date.self, column: "at").microseconds == instant.microseconds)
                #expect(try row.decode(PostgresDate.self, column: "day") == PostgresDate(instant))
                #expect(try row.decode([UInt8].self, column: "raw") == bytes)
                #expect(try row.decode(PostgresJSON.self, column: "doc").text == #"{"note": "tab\tand \"quote\""}"#)
                #expect(try row.decode(Decimal.self, column: "amount") == Decimal(string: "-0.000001"))
                #expect(try row.decode(String?.self, column: "note") == nil)
                #expect(row["note"].isNull)
            }
        }
    }

    @Test("NULL decodes into optionals and is an error for non-optionals")
    func nulls() async throws {
        try await TestDatabase.withConnection { conn in
            let row = try await conn.query("select null::int as n, null::text as t, null::jsonb as j").first!
            #expect(try row.decode(Int?.self, column: "n") == nil)
            #expect(try row.decode(String?.self, at: 1) == nil)
            #expect(try row.decode(PostgresJSON?.self, column: "j") == nil)
            #expect(row[1].string == nil)
            #expect(row[1].description == "NULL")
            let error = #expect(throws: PostgresDecodingError.self) { try row.decode(Int.self, column: "n") }
            #expect(error?.description == #"cannot decode column "n" (int4) as Int: the value is NULL"#)
        }
    }

    @Test("a decoding error names the column and both types, never the value")
    func decodingErrors() async throws {
        try await TestDatabase.withConnection { conn in
            let row = try await conn.query("select 'guest@example.com'::text as email, 3000000000::int8 as big").first!
            let error = #expect(throws: PostgresDecodingError.self) { try row.decode(Int.self, column: "email") }
            #expect(error?.column == "email")
            #expect(error?.columnType == .text)
            #expect(error?.description.contains("as Int") == true)
            #expect(error?.description.contains("guest") == false)
            #expect(throws: PostgresDecodingError.self) { try row.decode(Int32.self, column: "big") }
            #expect(throws: PostgresDecodingError.self) { try row.decode(Int.self, column: "missing") }
            #expect(throws: PostgresDecodingError.self) { try row.decode(Int.self, at: 7) }
        }
    }

    @Test("timestamptz decodes to the same instant whatever the session time zone")
    func otherTimeZone() async throws {
        try await TestDatabase.with { database in
            let conn = try await PostgresConnection.connect(database.url, timeZone: "Asia/Kathmandu")
            let row = try await conn.query(
                "select '2025-03-14 12:00:00+00'::timestamptz as t, current_setting('TimeZone') as z"
            ).first!
            #expect(row["t"].string == "2025-03-14 17:45:00+05:45")
            #expect(try row.decode(Date.self, column: "t") == Date(timeIntervalSince1970: 1_741_953_600))
            await conn.close()
            let utc = try await database.connect()
            #expect(try await utc.query("show TimeZone").first!.decode(String.self, at: 0) == "UTC")
            await utc.close()
        }
    }
}

extension Date {
    /// Microseconds since 1970, PostgreSQL's precision: the way to compare instants that went through the server.
    var microseconds: Int64 { Int64((timeIntervalSince1970 * 1_000_000).rounded()) }
}
