import Foundation
import OTAIngest
import PostgresClient
import TestSupport
import Testing

/// `ota-ingest export` as a user runs it: a child process against the real server.
@Suite("Export")
struct ExportTests {
    static let t1 = "2025-06-02T12:00:00Z"
    static let t2 = "2025-06-04T00:00:00Z"

    /// One load of the world: staging rows as the loaders write them, all with one loaded_at.
    struct Load {
        var loadedAt: String
        var apply: @Sendable (WarehouseFixture) async throws -> Void
    }

    static let nights = WarehouseFixture.nights(from: "2025-07-01", count: 5)

    static func booking(_ fixture: WarehouseFixture, nights: Int, at: String, loaded: String) async throws {
        let body = WarehouseFixture.booking(
            id: "7001", status: 1, checkIn: "2025-07-02", nights: nights, nightly: 100, changedAt: at)
        try await fixture.stageBooking(id: "7001", eventType: "update", body: body, otaTime: at, loadedAt: loaded)
    }

    /// Loads in time order: two normal ones before T1, a late and a corrective one between T1 and T2,
    /// one after T2 that neither time may see.
    static let world: [Load] = [
        Load(loadedAt: "2025-06-01T08:05:00Z") { f in
            try await f.stageRates(
                nights: nights, price: { _ in 100 }, observedAt: "2025-06-01T08:00:00Z",
                loadedAt: "2025-06-01T08:05:00Z")
            try await f.stageAvailability(
                nights: nights, allotment: { _ in 5 }, observedAt: "2025-06-01T08:00:00Z",
                loadedAt: "2025-06-01T08:05:00Z")
            try await booking(f, nights: 2, at: "2025-06-01T08:00:00Z", loaded: "2025-06-01T08:05:00Z")
        },
        Load(loadedAt: "2025-06-02T08:05:00Z") { f in
            try await f.stageRates(
                nights: Array(nights.prefix(3)), price: { _ in 110 }, observedAt: "2025-06-02T08:00:00Z",
                loadedAt: "2025-06-02T08:05:00Z")
            try await f.stageAvailability(
                nights: Array(nights.prefix(2)), allotment: { _ in 4 }, observedAt: "2025-06-02T08:00:00Z",
                loadedAt: "2025-06-02T08:05:00Z")
            try await booking(f, nights: 3, at: "2025-06-02T08:00:00Z", loaded: "2025-06-02T08:05:00Z")
        },
        // Late: seen at the OTA between the two loads above, loaded after T1.
        Load(loadedAt: "2025-06-03T09:00:00Z") { f in
            try await f.stageRates(
                nights: nights, price: { _ in 105 }, observedAt: "2025-06-01T20:00:00Z",
                loadedAt: "2025-06-03T09:00:00Z")
            try await f.stageAvailability(
                nights: nights, allotment: { _ in 3 }, observedAt: "2025-06-01T20:00:00Z",
                loadedAt: "2025-06-03T09:00:00Z")
            try await booking(f, nights: 4, at: "2025-06-01T20:00:00Z", loaded: "2025-06-03T09:00:00Z")
        },
        // Corrective: a newer reading of one night's price.
        Load(loadedAt: "2025-06-03T09:30:00Z") { f in
            try await f.stageRates(
                nights: [nights[1]], price: { _ in 112 }, observedAt: "2025-06-02T09:00:00Z",
                loadedAt: "2025-06-03T09:30:00Z")
        },
        Load(loadedAt: "2025-06-05T08:05:00Z") { f in
            try await f.stageRates(
                nights: nights, price: { _ in 120 }, observedAt: "2025-06-05T08:00:00Z",
                loadedAt: "2025-06-05T08:05:00Z")
            try await booking(f, nights: 1, at: "2025-06-05T08:00:00Z", loaded: "2025-06-05T08:05:00Z")
        },
    ]

    func export(_ url: String, _ arguments: [String]) async throws -> [String] {
        let outcome = try await CommandLineRunner.run(["export"] + arguments + ["--database-url", url])
        #expect(outcome.status == 0, "export \(arguments): \(outcome.stderr)")
        return outcome.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).sorted()
    }

    @Test("an export as of T equals the same feed of a warehouse rebuilt from only the staging rows loaded by T")
    func asOfEqualsRebuild() async throws {
        try await WarehouseFixture.with { full in
            for load in Self.world {
                try await load.apply(full)
                try await full.transform()
            }
            for t in [Self.t1, Self.t2] {
                try await WarehouseFixture.with { scratch in
                    // The same warehouse rebuilt: its guest-hash salt is part of it.
                    let salt = try await full.strings("select value from ops.settings where name = 'guest_hash_salt'")[
                        0]
                    try await scratch.connection.execute(
                        "update ops.settings set value = $1 where name = 'guest_hash_salt'", [salt])
                    for load in Self.world where Timestamps.parse(load.loadedAt)! <= Timestamps.parse(t)! {
                        try await load.apply(scratch)
                    }
                    try await scratch.transform(fullRefresh: true)
                    for feed in ["rates", "availability", "reservations", "booking_pace"] {
                        for format in ["csv", "ndjson"] {
                            let exported = try await export(
                                full.database.url, [feed, "--as-of", t, "--format", format])
                            let rebuilt = try await export(
                                scratch.database.url, [feed, "--as-of", t, "--format", format])
                            #expect(exported == rebuilt, "\(feed) \(format) as of \(t)")
                            #expect(exported.count > 2, "\(feed) as of \(t) is not empty")
                        }
                    }
                    // The rebuilt warehouse holds nothing after T, so its present equals T.
                    #expect(
                        try await export(full.database.url, ["rates", "--as-of", t])
                            == (try await export(scratch.database.url, ["rates"])))
                }
            }
            // The two times differ (the late and corrective loads came between them).
            #expect(
                try await export(full.database.url, ["rates", "--as-of", Self.t1])
                    != (try await export(full.database.url, ["rates", "--as-of", Self.t2])))

            // NDJSON passes JSON through untouched: every line parses, backslashes are not doubled.
            let lines = try await export(full.database.url, ["reservations", "--format", "ndjson"])
            for line in lines where !line.isEmpty {
                #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) != nil, "\(line)")
            }
        }
    }

    @Test(
        "an unknown feed, an --as-of in the future or garbled, --as-of on a present-only feed, a missing --out folder and a negative purge age each get one line naming the fix"
    )
    func refusals() async throws {
        try await WarehouseFixture.with { fixture in
            let url = fixture.database.url
            let unknown = try await CommandLineRunner.run(["export", "rates; drop table x", "--database-url", url])
            #expect(unknown.status == 2 && unknown.stderr.contains("unknown feed") && unknown.stderr.contains("fix:"))
            let future = try await CommandLineRunner.run(
                ["export", "rates", "--as-of", "2999-01-01T00:00:00Z", "--database-url", url])
            #expect(future.status == 2 && future.stderr.contains("in the future") && future.stderr.contains("fix:"))
            let present = try await CommandLineRunner.run(
                ["export", "pricing_current_rates", "--as-of", "2025-01-01T00:00:00Z", "--database-url", url])
            #expect(present.status == 2 && present.stderr.contains("takes no --as-of"))
            // A date is a time too: its first instant in UTC, said in the summary line.
            let date = try await CommandLineRunner.run([
                "export", "rates", "--as-of", "2026-01-01", "--database-url", url,
            ])
            #expect(date.status == 0 && date.stderr.contains("as of 2026-01-01T00:00:00"), "\(date.stderr)")
            let garbled = try await CommandLineRunner.run(
                ["export", "rates", "--as-of", "yesterday", "--database-url", url])
            #expect(garbled.status == 2 && garbled.stderr.contains("neither an ISO-8601 time nor a date"))
            // A folder that is not there is a failure to write (exit 1), not a usage error.
            let nowhere = try await CommandLineRunner.run(
                ["export", "rates", "--out", "/nonexistent-\(UUID().uuidString)/rates.csv", "--database-url", url])
            #expect(nowhere.status == 1 && nowhere.stderr.contains("fix: create the folder"), "\(nowhere.stderr)")
            // A negative age is named as such, not taken for another option.
            let negative = try await CommandLineRunner.run(["purge", "--older-than", "-1", "--database-url", url])
            #expect(negative.status == 2 && negative.stderr.contains("at least 1 day"), "\(negative.stderr)")
            #expect(!negative.stderr.contains("Missing value"))
            let list = try await CommandLineRunner.run(["export", "--list", "--database-url", url])
            #expect(list.status == 0)
            for feed in FeedCatalog.feeds { #expect(list.stdout.contains(feed.name)) }
            #expect(list.stdout.contains("The current rate of every cell"))
        }
    }

    static func peakMB(_ stderr: String) -> Int? {
        guard let range = stderr.range(of: "peak memory ") else { return nil }
        return Int(stderr[range.upperBound...].prefix { $0.isNumber })
    }

    @Test("an export of 500,000 rows streams in flat memory (measured in the child process)")
    func halfAMillionRowsFlatMemory() async throws {
        try await WarehouseFixture.with { fixture in
            // 500,000 current cells: 10 properties' worth of rates spread over HTL001 and HTL002.
            _ = try await fixture.connection.query("select facts.ensure_stay_partitions('2025-07-01', '2026-07-01')")
            try await fixture.connection.execute(
                """
                insert into facts.rates (property_code, rate_id, room_code, stay_date, adults, children, channel,
                    valid_from, row_hash, version, price, currency, closeout, min_stay, source, stream, loaded_at)
                select case when i < 10000 then 'HTL002' else 'HTL001' end, 'R' || (i / 36500), 'DBL',
                       date '2025-07-01' + (i % 365), 1 + (i / 365) % 100, 0, '',
                       timestamptz '2025-06-01 00:00Z', md5(i::text)::uuid, 1, 100 + (i % 97), 'EUR', false, 1,
                       'webhotelier', 'rates', timestamptz '2025-06-01 00:05Z'
                from generate_series(0, 499999) i
                """)
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("export-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let small = directory.appendingPathComponent("small.ndjson").path
            let large = directory.appendingPathComponent("large.ndjson").path
            let url = fixture.database.url
            let smallRun = try await CommandLineRunner.run(
                [
                    "export", "pricing_current_rates", "--format", "ndjson", "--property", "HTL002", "--out", small,
                    "--database-url", url,
                ])
            let largeRun = try await CommandLineRunner.run(
                ["export", "pricing_current_rates", "--format", "ndjson", "--out", large, "--database-url", url])
            #expect(smallRun.status == 0 && largeRun.status == 0, "\(smallRun.stderr) \(largeRun.stderr)")
            #expect(largeRun.stderr.contains("exported 500000 rows"), "\(largeRun.stderr)")
            #expect(smallRun.stderr.contains("exported 10000 rows"), "\(smallRun.stderr)")
            let attributes = try FileManager.default.attributesOfItem(atPath: large)
            #expect((attributes[.size] as? Int ?? 0) > 50_000_000)
            #expect(!FileManager.default.fileExists(atPath: large + ".partial"))
            let smallPeak = try #require(Self.peakMB(smallRun.stderr))
            let largePeak = try #require(Self.peakMB(largeRun.stderr))
            // 50x the rows, and more than 50 MB written: flat means a few MB of difference at most.
            #expect(largePeak - smallPeak < 16, "peak \(smallPeak) MB for 10,000 rows, \(largePeak) MB for 500,000")
            #expect(largePeak < 96, "peak \(largePeak) MB")
        }
    }
}
