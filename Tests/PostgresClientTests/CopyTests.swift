import Foundation
import PostgresClient
import TestSupport
import Testing

@Suite("COPY")
struct CopyTests {
    struct BodyFailed: Error {}

    /// The COPY runs in a child process (`ota-bench stream`), alone, so the peak-memory
    /// figure is its own: the suites that run in parallel here allocate too.
    @Test("COPY of 1,000,000 rows streams with flat memory")
    func millionRowsFlatMemory() async throws {
        try await TestDatabase.with { database in
            let outcome = try await CommandLineRunner.run(
                ["stream", "--rows", "1000000", "--database-url", database.url], executable: "ota-bench")
            let output = outcome.stdout
            // ~200 bytes a row, ~200 MB in all: far more than the allowed growth, so only
            // streaming can stay under the bound.
            let fields = Dictionary(
                uniqueKeysWithValues: output.split(whereSeparator: \.isWhitespace).compactMap {
                    pair -> (String, Int)? in
                    let parts = pair.split(separator: "=")
                    guard parts.count == 2, let value = Int(parts[1]) else { return nil }
                    return (String(parts[0]), value)
                })
            #expect(fields["copied"] == 1_000_000, "\(output)")
            #expect(fields["counted"] == 1_000_000)
            let growth = fields["growth_kb"] ?? Int.max
            #expect(growth < 64 * 1024, "peak memory grew by \(growth / 1024) MiB during the COPY")
        }
    }

    @Test("fields with tabs, newlines, carriage returns, backslashes and NULLs land exactly")
    func escaping() async throws {
        try await TestDatabase.withConnection { conn in
            try await conn.execute("create table notes (id int, body text, extra text)")
            let bodies: [String?] = [
                "tab\there", "line\nbreak", "cr\rlf\r\n", "back\\slash", "\\N", "N", nil, "", "émoji 🏨", "\\.",
                String(repeating: "long\\\t", count: 100_000),
            ]
            let copied = try await conn.copyIn("copy notes from stdin") { writer in
                for (id, body) in bodies.enumerated() {
                    try writer.appendRow([String(id), body, id.isMultiple(of: 2) ? nil : "x"])
                }
            }
            #expect(copied == bodies.count)
            let stored = try await conn.query("select body from notes order by id").map {
                try $0.decode(String?.self, at: 0)
            }
            #expect(stored == bodies)
        }
    }

    @Test("a body that throws mid-stream aborts the COPY, keeps nothing, and leaves the connection usable")
    func bodyThrows() async throws {
        try await TestDatabase.withConnection { conn in
            try await conn.execute("create table landed (id int)")
            await #expect(throws: BodyFailed.self) {
                try await conn.copyIn("copy landed from stdin") { writer in
                    for id in 0..<200_000 {
                        try writer.appendRow([String(id)])
                        if id == 150_000 { throw BodyFailed() }
                    }
                }
            }
            #expect(try await conn.query("select count(*) from landed").first!.decode(Int.self, at: 0) == 0)
            #expect(try await conn.copyIn("copy landed from stdin") { try $0.appendRow(["7"]) } == 1)
        }
    }

    @Test(
        "data the server rejects (\\u0000 in jsonb) fails the COPY with its SQLSTATE and line; the connection stays usable"
    )
    func serverRejectsData() async throws {
        try await TestDatabase.withConnection { conn in
            try await conn.execute("create table landed (doc jsonb)")
            let error = await #expect(throws: PostgresError.self) {
                try await conn.copyIn("copy landed (doc) from stdin") { writer in
                    for id in 0..<100_000 {
                        let doc = id == 41_999 ? #"{"name": "bad\u0000byte"}"# : #"{"id": \#(id)}"#
                        try writer.appendRow([doc])
                    }
                }
            }
            #expect(error?.kind == .server)
            #expect(error?.sqlState == .untranslatableCharacter)
            #expect(error?.copyLine == 42_000)
            #expect(error?.statement == "copy landed (doc) from stdin")
            #expect(try await conn.query("select count(*) from landed").first!.decode(Int.self, at: 0) == 0)
            // Inside a transaction the failed COPY rolls back with everything before it.
            await #expect(throws: PostgresError.self) {
                try await conn.transaction { conn in
                    try await conn.execute("insert into landed values ('{}')")
                    _ = try await conn.copyIn("copy landed (doc) from stdin") { try $0.appendRow(["not json"]) }
                }
            }
            #expect(try await conn.query("select count(*) from landed").first!.decode(Int.self, at: 0) == 0)
            #expect(try await conn.copyIn("copy landed (doc) from stdin") { try $0.appendRow(["{}"]) } == 1)
        }
    }

    @Test("copyOut streams rows back that copyIn wrote, byte for byte")
    func copyOutRoundTrip() async throws {
        try await TestDatabase.withConnection { conn in
            try await conn.execute("create table notes (id int, body text)")
            let bodies = (0..<10_000).map { "row \($0)\twith tab, \\ and ünïcödé" }
            _ = try await conn.copyIn("copy notes from stdin") { writer in
                for (id, body) in bodies.enumerated() { try writer.appendRow([String(id), body]) }
            }
            var received = [UInt8]()
            let count = try await conn.copyOut("copy (select id, body from notes order by id) to stdout") {
                received.append(contentsOf: $0)
            }
            #expect(count == bodies.count)
            let expected = bodies.enumerated().map {
                "\($0)\t\($1.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\t", with: "\\t"))\n"
            }.joined()
            #expect(String(decoding: received, as: UTF8.self) == expected)
        }
    }

    @Test("a copyOut body that throws stops the export and leaves the connection usable")
    func copyOutBodyThrows() async throws {
        try await TestDatabase.withConnection { conn in
            var seen = 0
            await #expect(throws: BodyFailed.self) {
                try await conn.copyOut("copy (select generate_series(1, 5000000)) to stdout") { _ in
                    seen += 1
                    if seen == 10 { throw BodyFailed() }
                }
            }
            #expect(seen == 10)
            let stillUsable = try await conn.query("select 1")
            #expect(stillUsable.count == 1)
        }
    }

    @Test(
        "statements that are not the right COPY are refused, and a COPY sent through query does not wedge the session")
    func misuse() async throws {
        try await TestDatabase.withConnection { conn in
            try await conn.execute("create table landed (id int)")
            await #expect(throws: PostgresError.self) { try await conn.copyIn("select 1") { _ in } }
            await #expect(throws: PostgresError.self) { try await conn.copyOut("copy landed from stdin") { _ in } }
            await #expect(throws: PostgresError.self) { try await conn.query("copy landed from stdin") }
            await #expect(throws: PostgresError.self) { try await conn.query("copy landed to stdout") }
            #expect(try await conn.query("select 1").count == 1)
        }
    }
}
