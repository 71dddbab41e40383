import Foundation
import OTASandbox
import Testing

@testable import OTAIngest

@Suite struct CursorPullTests {
    private func latestStaged(_ h: PullHarness) async throws -> [String] {
        try await h.strings(
            """
            select distinct on (record_key) concat_ws('|', record_key, price, available, currency)
            from staging.rate_observations where stream = 'inventory'
            order by record_key, source_updated_at desc
            """)
    }

    /// Record versions (key, content hash) staged more than once.
    private func doubledVersions(_ h: PullHarness) async throws -> Int {
        try await h.int(
            """
            select count(*)::int from (select 1 from staging.rate_observations
            group by record_key, record_hash having count(*) > 1) d
            """)
    }

    private func truth(_ h: PullHarness) -> [String] {
        let bad = Set(h.server.malformedRecords().compactMap(\.recordID))
        return h.server.accounts().flatMap { h.server.inventoryRecords(property: $0.code) }
            .filter { !bad.contains($0.id) }
            .map { "\($0.id)|\(money($0.priceCents))|\($0.available)|\($0.currency)" }
    }

    @Test func incrementalPullsEndEqualToTheFeedAndTheBoundaryIsNeitherLostNorDoubled() async throws {
        try await PullHarness.with({ c in
            c.seed = 31
            c.propertyCount = 2
            c.faults.malformedRecordRate = 0.002
            c.faults.duplicatePageRecordRate = 0.3
            // Drift moves a price without moving updated_at: only reconciliation can see it.
            c.activity.priceDrift = 0
        }) { h in
            let first = try await h.pull(.inventory)
            #expect(first.counts["duplicates"] ?? 0 > 0, "the duplicate-record fault should have fired")
            #expect(try await latestStaged(h).sorted() == truth(h).sorted())
            let rowsAfterFirst = try await h.int("select count(*)::int from staging.rate_observations")

            // Nothing changed: an inclusive re-read of the boundary lands nothing.
            let idle = try await h.pull(.inventory)
            #expect(idle.counts["landed"] == 0)
            #expect(try await h.int("select count(*)::int from staging.rate_observations") == rowsAfterFirst)

            for _ in 0..<3 {
                h.server.advance(minutes: 240)
                let o = try await h.pull(.inventory)
                let staged = Set(try await latestStaged(h))
                let expected = Set(truth(h))
                let missing = expected.subtracting(staged).sorted()
                let extra = staged.subtracting(expected).sorted()
                if !missing.isEmpty || !extra.isEmpty {
                    Issue.record(
                        "MISSING \(missing.count) \(missing.prefix(3)) EXTRA \(extra.count) \(extra.prefix(3)) counts \(o.counts)"
                    )
                }
            }
            // No record version landed twice.
            let doubled = try await doubledVersions(h)
            #expect(doubled == 0)
            let dead = Set(try await h.strings("select record_key from ops.dead_letters where stream = 'inventory'"))
            let reasons = try await h.strings(
                "select coalesce(record_key, '?') || ' ' || reason || ' ' || encode(raw, 'escape') from ops.dead_letters where coalesce(record_key, '') = ''"
            )
            #expect(reasons.isEmpty, "\(reasons)")
            #expect(dead == Set(h.server.malformedRecords().compactMap(\.recordID)))
        }
    }

    /// The newest instant's records spread over several pages all stay in the boundary: each
    /// page carries them forward until a page moves past the instant.
    /// Dropping an earlier page's records lands them again on the next inclusive re-read.
    @Test func aBoundarySpanningSeveralPagesIsKeptWhole() async throws {
        try await PullHarness.with({ c in
            c.seed = 33
            c.propertyCount = 1
            c.activity.priceDrift = 0
        }) { h in
            let pageSize = 1
            let first = try await h.pull(.inventory) { $0.pageSize = pageSize }
            let atInstant = try await h.int(
                """
                select count(*)::int from staging.rate_observations o
                join ops.watermarks w on w.stream = 'inventory' and o.source_updated_at = w.updated_after
                where o.stream = 'inventory'
                """)
            #expect(atInstant > pageSize, "the newest instant should span more than one page")
            #expect(
                try await h.int(
                    "select jsonb_array_length(boundary_keys) from ops.watermarks where stream = 'inventory'")
                    == atInstant)
            let idle = try await h.pull(.inventory) { $0.pageSize = pageSize }
            #expect(idle.counts["landed"] == 0, "first run \(first.counts), re-read \(idle.counts)")
            #expect(try await doubledVersions(h) == 0)
        }
    }

    /// The boundary's JSON is written by hand (Foundation's serializer was a sixth of a large
    /// pull's CPU): keys with quotes, backslashes, control characters and non-ASCII text
    /// must read back as they were.
    @Test func boundaryKeysOfAnyTextReadBackAsTheyWere() throws {
        let keys = [
            "plain 1a2b", "quote\" and \\ backslash", "tab\tnew\nline\u{1}\u{1F}", "delete\u{7F}",
            "Zürich 東京 ﬀ 🏨", "",
        ]
        let text = CursorPull.jsonArray(keys)
        let back = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String])
        #expect(back.map { Array($0.utf8) } == keys.map { Array($0.utf8) })
        #expect(CursorPull.jsonArray([]) == "[]")
    }

    /// A feed id with U+0000 (valid JSON, but no PostgreSQL text can hold it) refuses its
    /// record, so it becomes a dead letter under its id without the NUL, instead of failing
    /// the page's landing and the watermark's jsonb on every retry.
    @Test func aRecordWhoseIdHoldsANulIsRefusedAndKeyedWithoutIt() throws {
        let body = Array(
            #"{"id":"R1\u0000x","property_id":"P","room_code":"D","rate_plan_code":"BAR","stay_date":"2026-05-01","adults":2,"price":10.5,"currency":"EUR","available":3,"updated_at":"2026-04-01T10:00:00Z"}"#
                .utf8)
        try body.withUnsafeBufferPointer { buffer in
            let scanner = JSONScanner(buffer)
            let record = try scanner.value(in: 0..<buffer.count)
            let stamp = LoadStamp(
                source: "s", propertyCode: "", observedAt: "2026-04-01T10:00:00Z", loadDate: "2026-04-01",
                batchId: "b", runId: "r")
            #expect(throws: InventoryRecordParser.Refusal.self) {
                _ = try InventoryRecordParser.parse(record, scanner, stamp: stamp)
            }
            #expect(CursorPull.keyGuess(record, scanner) == "R1x")
        }
    }

    /// A repeat from far back in the feed (out of updated_at order) is caught too: the
    /// pull keeps only the newest instant's hashes while the feed is in order, and must
    /// switch to every hash the run landed when it is not.
    @Test func aRecordRepeatedOutOfOrderLandsOnce() async throws {
        try await PullHarness.with({ c in
            c.seed = 32
            c.propertyCount = 2
            c.faults.repeatEarlierRecordRate = 0.5
            c.activity.priceDrift = 0
        }) { h in
            let run = try await h.pull(.inventory) { $0.pageSize = 200 }
            #expect(run.counts["duplicates"] ?? 0 > 0, "the repeat-earlier-record fault should have fired")
            let doubled = try await doubledVersions(h)
            #expect(doubled == 0)
            #expect(try await latestStaged(h).sorted() == truth(h).sorted())
        }
    }
}
