import Foundation
import OTAIngest
import PostgresClient
import TestSupport
import Testing

@Suite struct BackfillTests {
    static let rateColumns = """
        select concat_ws('|', property_code, rate_id, room_code, stay_date, adults, children, price, currency,
                         closeout, min_stay)
        from staging.rate_observations
        """

    @Test func ndjsonRatesLandExactlyTheValidRecordsAndDeadLetterTheRest() async throws {
        let records = BackfillFixtures.rates(count: 600, seed: 41, badEvery: 25)
        let dir = try BackfillFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("rates.ndjson")
        try BackfillFixtures.write(BackfillFixtures.ndjson(records), to: file)
        try await BackfillDatabase.with { b in
            // Small parts so records cross part boundaries.
            let outcome = try await b.load(["rates", "--source", "acme", "--file", file.path, "--part-records", "97"])
            #expect(outcome.status == 3, "\(outcome.stderr)")
            let valid = records.filter(\.valid)
            let invalid = records.filter { !$0.valid }
            #expect(invalid.count == 24)
            let landed = try await b.strings(Self.rateColumns)
            let dead = try await b.deadLetterRaws()
            #expect(landed.sorted() == valid.map { $0.expected! }.sorted())
            #expect(dead.sorted() == invalid.map(\.bytes.hex).sorted())
            Torture.record(
                "hostile corpus against load (every defect kind, across part boundaries)", trials: records.count,
                violations: Torture.difference(landed, valid.map { $0.expected! })
                    + Torture.difference(dead, invalid.map(\.bytes.hex)),
                note: "\(invalid.count) hostile records: exactly those dead-lettered, the rest landed")
            // Each dead letter says why, naming the field and the rule.
            let reasons = try await b.strings("select reason from ops.dead_letters order by raw")
            for record in invalid {
                let reason = try await b.strings(
                    "select reason from ops.dead_letters where raw = decode($1, 'hex')", [record.bytes.hex])
                #expect(reason.first?.contains(record.reasonHint!) == true, "\(reason) lacks \(record.reasonHint!)")
            }
            #expect(reasons.count == invalid.count)
            // The raw payload is each record's own bytes, not a re-encoding.
            let raws = try await b.strings(
                "select raw::text from staging.rate_observations where rate_id = '100' limit 1")
            #expect(raws.first?.contains("\"seq\"") == true)
            #expect(try await b.int("select count(*)::int from ops.batches") == 7)
            #expect(try await b.int("select count(distinct batch_id)::int from staging.rate_observations") == 7)
            let run = try await b.strings(
                "select status || ' ' || (counts->>'landed') || ' ' || (counts->>'dead_letters') from ops.runs")
            #expect(run == ["dead_letters \(valid.count) \(invalid.count)"])
            #expect(outcome.stdout.contains("records 600  landed 576  duplicates 0  dead letters 24"))
            // Origin is in the batch id; the summary fits one screen.
            #expect(outcome.stdout.split(separator: "\n").count <= 8)
            let allowed = try await b.load(
                ["rates", "--source", "acme", "--file", file.path, "--new-run", "--allow-dead-letters"])
            #expect(allowed.status == 0, "\(allowed.stderr)")
            #expect(try await b.int("select max(attempts)::int from ops.dead_letters") == 2)
        }
    }

    @Test func jsonArrayAvailabilityLandsExactlyTheValidRecords() async throws {
        let records = BackfillFixtures.availability(count: 240, seed: 42, badEvery: 9)
        let dir = try BackfillFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("availability.json")
        try BackfillFixtures.write(BackfillFixtures.jsonArray(records), to: file)
        try await BackfillDatabase.with { b in
            let outcome = try await b.load([
                "availability", "--source", "webhotelier", "--file", file.path, "--part-records", "50",
            ])
            #expect(outcome.status == 3, "\(outcome.stderr)")
            #expect(outcome.stdout.contains("format json-array"))
            let staged = try await b.strings(
                """
                select concat_ws('|', property_code, room_code, stay_date, allotment, stop_sell, min_stay, max_stay,
                                 closed_to_arrival, closed_to_departure)
                from staging.availability_observations
                """)
            #expect(staged.sorted() == records.filter(\.valid).map { $0.expected! }.sorted())
            #expect(try await b.deadLetterRaws().sorted() == records.filter { !$0.valid }.map(\.bytes.hex).sorted())
            #expect(try await b.int("select count(*)::int from ops.dead_letters where stream = 'availability'") == 26)
        }
    }

    @Test("a JSON array cut half-way lands its complete records, names the cut, and reports its format")
    func aJSONArrayCutShortLandsItsCompleteRecords() async throws {
        let records = BackfillFixtures.availability(count: 40, seed: 44, badEvery: 1000)
        let dir = try BackfillFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("availability.json")
        // Cut in the middle of record 31: 30 complete records before it.
        let whole = BackfillFixtures.jsonArray(records)
        let prefix = BackfillFixtures.jsonArray(Array(records.prefix(30))).dropLast(3)
        let cut = Array(prefix) + Array(whole[prefix.count..<(prefix.count + 4 + records[30].bytes.count / 2)])
        try BackfillFixtures.write(cut, to: file)
        try await BackfillDatabase.with { b in
            let outcome = try await b.load([
                "availability", "--source", "webhotelier", "--file", file.path, "--part-records", "7",
            ])
            #expect(outcome.status == 1, "\(outcome.stdout) \(outcome.stderr)")
            #expect(outcome.stdout.contains("format json-array"), "\(outcome.stdout)")
            #expect(outcome.stdout.contains("ends early"), "\(outcome.stdout)")
            let staged = try await b.strings(
                """
                select concat_ws('|', property_code, room_code, stay_date, allotment, stop_sell, min_stay, max_stay,
                                 closed_to_arrival, closed_to_departure)
                from staging.availability_observations
                """)
            #expect(staged.sorted() == records.prefix(30).filter(\.valid).map { $0.expected! }.sorted())
        }
    }

    @Test("a 5,000-character code registered automatically is abbreviated in the transform's summary")
    func aLongAutoRegisteredCodeIsAbbreviated() async throws {
        let dir = try BackfillFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("rates.ndjson")
        let room = "R" + String(repeating: "x", count: 5000)
        let record =
            #"{"property":"HTL001","rate_id":"100","room":"\#(room)","date":"2025-01-01","adults":2,"children":0,"price":99.5,"currency":"EUR","closeout":0,"min_stay":1}"#
        try BackfillFixtures.write(Array((record + "\n").utf8), to: file)
        try await BackfillDatabase.with { b in
            let load = try await b.load(["rates", "--source", "acme", "--file", file.path])
            #expect(load.status == 0, "\(load.stdout) \(load.stderr)")
            let transform = try await CommandLineRunner.run(["transform", "--database-url", b.db.url])
            let warning = transform.stdout.split(separator: "\n").first { $0.contains("warning dims.auto_registered") }
            let line = try #require(warning, "\(transform.stdout)")
            #expect(line.count < 400, "\(line.count) characters")
            #expect(line.contains("characters; all of it in ops.dq_results"), "\(line)")
            #expect(!transform.stdout.contains(String(repeating: "x", count: 300)))
        }
    }

    @Test func aResumedRunLandsOnlyThePartsThatDidNotCommit() async throws {
        let records = BackfillFixtures.rates(count: 500, seed: 43, badEvery: 50)
        let dir = try BackfillFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("rates.ndjson")
        try BackfillFixtures.write(BackfillFixtures.ndjson(records), to: file)
        try await BackfillDatabase.with { b in
            let args = ["rates", "--source", "acme", "--file", file.path, "--part-records", "60"]
            #expect(try await b.load(args).status == 3)
            let clean = try await b.strings(Self.rateColumns).sorted()
            // As if the process died after part 3 committed: later parts never landed, the run never finished.
            try await b.execute(
                """
                delete from staging.rate_observations where batch_id ~ ':part:([4-9])$';
                delete from ops.dead_letters where batch_id ~ ':part:([4-9])$';
                delete from ops.batches where batch_range ~ ':part:([4-9])$';
                update ops.runs set status = 'running', finished_at = null;
                """)
            let resumed = try await b.load(args)
            #expect(resumed.status == 3, "\(resumed.stderr)")
            #expect(resumed.stdout.contains("(resumed)"))
            #expect(resumed.stdout.contains("parts 5  parts already landed 4  records in them 240"))
            #expect(try await b.strings(Self.rateColumns).sorted() == clean)
            #expect(try await b.int("select count(distinct run_id)::int from staging.rate_observations") == 1)
            // Run again after it finished: a resumed run of the same file lands nothing twice.
            try await b.execute("update ops.runs set status = 'failed'")
            let again = try await b.load(args)
            #expect(again.stdout.contains("landed 0"), "\(again.stdout)")
            #expect(again.stdout.contains("parts already landed 9"))
            #expect(try await b.strings(Self.rateColumns).sorted() == clean)
        }
    }

    @Test func standardInputLoadsLikeAFile() async throws {
        let records = BackfillFixtures.rates(count: 300, seed: 44, badEvery: 30)
        let dir = try BackfillFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("rates.ndjson")
        try BackfillFixtures.write(BackfillFixtures.ndjson(records), to: file)
        try await BackfillDatabase.with { b in
            let outcome = try await b.load(
                ["rates", "--source", "acme", "--file", "-", "--part-records", "100"], standardInput: file)
            #expect(outcome.status == 3, "\(outcome.stderr)")
            #expect(outcome.stdout.contains("file standard input"))
            #expect(
                try await b.strings(Self.rateColumns).sorted() == records.filter(\.valid).map { $0.expected! }.sorted())
            #expect(try await b.int("select count(*)::int from ops.dead_letters") == 10)
            let ranges = try await b.strings("select batch_range from ops.batches order by batch_range")
            #expect(ranges.count == 3 && ranges.allSatisfy { $0.hasPrefix("file:stdin:part:") })
        }
    }

    @Test func badArgumentsExitTwoWithOneLine() async throws {
        try await BackfillDatabase.with { b in
            let missing = try await b.load(["rates", "--source", "acme", "--file", "/nonexistent/rates.ndjson"])
            #expect(missing.status == 2)
            #expect(missing.stderr.contains("/nonexistent/rates.ndjson"))
            #expect(missing.stderr.contains("fix:"))
            #expect(missing.stderr.split(separator: "\n").count == 1, "\(missing.stderr)")
            let noSource = try await b.load(["rates", "--file", "/tmp"])
            #expect(noSource.status == 2)
            let directory = try await b.load(["rates", "--source", "acme", "--file", "/tmp"])
            #expect(directory.status == 2)
            #expect(try await b.int("select count(*)::int from ops.runs") == 0)
        }
    }

    @Test func reservationsLandAsBackfillVersionsOnceEach() async throws {
        func body(_ id: Int, status: Int = 1, from: String = "2025-05-01", to: String = "2025-05-03", amount: Int = 200)
            -> String
        {
            #"{"id":\#(id),"property":"HTL001","status":\#(status),"roomStay":{"from":"\#(from)","to":"\#(to)"},"pricing":{"currency":"EUR","amount":\#(amount)},"bookInfo":{"book_date":"2025-04-01T10:00:00Z"},"clientInfo":{"name":"Guest \#(id)"}}"#
        }
        let lines = [
            body(1001),
            #"{"id":1002,"type":"new","data":\#(body(1002))}"#,
            #"{"id":1003,"type":"cancel","data":\#(body(1003, status: 0))}"#,
            body(1001),  // the same version again: stored once
            body(1001, amount: 250),  // a second version of 1001
            #"{"id":9999,"type":"new","data":\#(body(1004))}"#,  // wrapper id is not the booking's
            body(1005, status: 7),
            body(1006, from: "2025-05-03", to: "2025-05-01"),
            body(1007, from: "2025-02-29"),
            #"{"id":"1008","property":"HTL001"}"#,
            // What the transforms would fail on is refused here, the field named.
            #"{"id":1009,"property":"HTL001","status":1,"roomStay":{"from":"2025-05-01","to":"2025-05-03"},"pricing":{"price":"n/a"}}"#,
            #"{"id":1010,"property":"HTL001","status":1,"roomStay":{"from":"2025-05-01","to":"2025-05-03"},"rooms":[{"roomNo":1,"adults":2.5}]}"#,
            #"{"id":1011,"property":"HTL001","status":1,"roomStay":{"from":"2025-05-01","to":"2025-05-03"},"rooms":[{"roomNo":1,"rates":[{"date":"2025-05-01","price_with_tax":"12.50"},{"date":"May 2","price_with_tax":10}]}]}"#,
        ]
        let dir = try BackfillFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("bookings.ndjson")
        try BackfillFixtures.write(Array(lines.joined(separator: "\n").utf8), to: file)
        try await BackfillDatabase.with { b in
            let outcome = try await b.load(["reservations", "--source", "webhotelier", "--file", file.path])
            #expect(outcome.status == 3, "\(outcome.stderr)")
            #expect(outcome.stdout.contains("records 13  landed 4  duplicates 1  dead letters 8"), "\(outcome.stdout)")
            let events = try await b.strings(
                "select confirmation_id || ' ' || event_type || ' ' || origin from staging.reservation_events order by event_id"
            )
            #expect(
                events == ["1001 update backfill", "1002 new backfill", "1003 cancel backfill", "1001 update backfill"])
            let reasons = try await b.strings("select reason from ops.dead_letters order by dead_letter_id")
            #expect(reasons.count == 8)
            #expect(reasons.contains { $0.contains("pricing.price must be a number, not \"n/a\"") })
            #expect(reasons.contains { $0.contains("rooms[].adults must be a whole number, not 2.5") })
            #expect(reasons.contains { $0.contains("rooms[].rates[].date must be a real date") })
            #expect(reasons.contains { $0.contains("1004 is not the requested reservation 9999") })
            #expect(reasons.contains { $0.contains("status must be") })
            #expect(reasons.contains { $0.contains("is not after") })
            #expect(reasons.contains { $0.contains("roomStay.from must be a real date") })
            #expect(reasons.contains { $0.contains("id must be an integer") })
            // The booking's hash is over its data element, the same as a pull's.
            let hashes = try await b.int(
                """
                select count(*)::int from staging.reservation_events
                where content_hash = encode(sha256(convert_to(data::text, 'UTF8')), 'hex')
                """)
            #expect(hashes == 4)
        }
    }

    /// Peak memory of a load stays flat as the file grows: the file is read in
    /// chunks and landed in parts, never held whole.
    @Test func aLargeFileLandsWithBoundedMemory() async throws {
        let dir = try BackfillFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let small = dir.appendingPathComponent("small.ndjson")
        let large = dir.appendingPathComponent("large.ndjson")
        try BackfillFixtures.write(BackfillFixtures.ndjson(BackfillFixtures.rates(count: 50_000, seed: 45)), to: small)
        try BackfillFixtures.write(BackfillFixtures.ndjson(BackfillFixtures.rates(count: 400_000, seed: 46)), to: large)
        try await BackfillDatabase.with { b in
            // Parts of 10,000: the small file already fills both landing connections many times.
            let first = try await b.load(["rates", "--source", "acme", "--file", small.path, "--part-records", "10000"])
            #expect(first.status == 0, "\(first.stderr)")
            let second = try await b.load([
                "rates", "--source", "acme", "--file", large.path, "--part-records", "10000",
            ])
            #expect(second.status == 0, "\(second.stderr)")
            #expect(try await b.int("select count(*)::int from staging.rate_observations") == 450_000)
            let peaks = try await b.strings(
                "select counts->>'peak_rss_kb' from ops.runs order by started_at")
            let smallPeak = Int(peaks[0])!
            let largePeak = Int(peaks[1])!
            let fileMB = (try FileManager.default.attributesOfItem(atPath: large.path)[.size] as! Int) / (1 << 20)
            #expect(smallPeak > 0)
            #expect(largePeak < 256 * 1024, "peak \(largePeak / 1024) MB")
            // Eight times the records (a 68 MB file), about the same memory: far less than the
            // file's own size more. The bound leaves room for allocator noise when suites run in parallel.
            #expect(
                largePeak - smallPeak < 48 * 1024, "grew \((largePeak - smallPeak) / 1024) MB for a \(fileMB) MB file")
        }
    }
}

@Suite struct RecordReaderTests {
    /// Splits `bytes` with tiny chunks and parts, so every state crosses a chunk boundary.
    func split(_ bytes: [UInt8], chunk: Int, part: Int) throws -> (records: [[UInt8]], format: RecordReader.Format?) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("reader-\(UUID().uuidString)")
        try Data(bytes).write(to: path)
        defer { try? FileManager.default.removeItem(at: path) }
        let fd = open(path.path, O_RDONLY)
        defer { close(fd) }
        var reader = RecordReader(
            fileDescriptor: fd, limits: RecordReader.Limits(chunkBytes: chunk, partRecords: part, recordBytes: 1 << 20))
        var records: [[UInt8]] = []
        var expectedFirst = 1
        while let p = try reader.next() {
            #expect(p.firstRecord == expectedFirst)
            expectedFirst += p.records.count
            records += p.records.map { Array(p.bytes[$0]) }
        }
        return (records, reader.format)
    }

    @Test(arguments: [1, 2, 7, 64, 4096])
    func recordsComeOutByteForByteWhateverTheChunkSize(chunk: Int) throws {
        let records =
            BackfillFixtures.availability(count: 40, seed: 7, badEvery: 6).map(\.bytes)
            + [Array(#""a string"#.utf8) + [0x22], Array("12.5e3".utf8), Array("null".utf8), Array("[]".utf8)]
        let array = try split(
            BackfillFixtures.jsonArray(records.map { GeneratedRecord(bytes: $0, valid: true) }), chunk: chunk, part: 3)
        #expect(array.format == .array)
        #expect(array.records == records)
        let lines = BackfillFixtures.rates(count: 30, seed: 8, badEvery: 4).map(\.bytes)
        let ndjson = try split(
            [0xEF, 0xBB, 0xBF] + BackfillFixtures.ndjson(lines.map { GeneratedRecord(bytes: $0, valid: true) }),
            chunk: chunk, part: 4)
        #expect(ndjson.format == .ndjson)
        #expect(ndjson.records == lines)
    }

    @Test func emptyInputsAndBrokenArrays() throws {
        #expect(try split([], chunk: 8, part: 2).records.isEmpty)
        #expect(try split(Array(" \n [ ] \n".utf8), chunk: 3, part: 2).records.isEmpty)
        #expect(try split(Array("{\"a\":1}".utf8), chunk: 3, part: 2).records == [Array("{\"a\":1}".utf8)])
        #expect(throws: RecordReader.Malformed.self) { try split(Array("[{\"a\":1},{\"b\":".utf8), chunk: 4, part: 2) }
        #expect(throws: RecordReader.Malformed.self) {
            try split(Array("[{\"a\":1} {\"b\":2}]".utf8), chunk: 4, part: 2)
        }
        #expect(throws: RecordReader.Malformed.self) { try split(Array("[1,2] x".utf8), chunk: 4, part: 2) }
    }
}

extension GeneratedRecord {
    init(bytes: [UInt8], valid: Bool) {
        self.init(bytes: bytes, valid: valid, expected: nil, reasonHint: nil)
    }
}
