import Foundation
import OTAIngest
import OTASandbox
import PostgresClient
import TestSupport
import Testing

/// `ota-ingest report` over a warehouse with 13 months of booking history, opened in a real
/// headless Chromium: every chart is there, the browser reports no error, and the numbers
/// behind the charts are the feeds' own.
@Suite(.serialized) struct ReportTests {
    /// Two properties whose OTA clock stands three days before today, so what the nights pull
    /// lies around today; silent changes make drift for reconcile to find and repair.
    static func world(_ c: inout SandboxConfiguration) {
        c.propertyCount = 2
        c.initialBookingsPerProperty = 6
        c.minimumPendingIntervalMinutes = 0
        c.faults.silentChangeRate = 0.3
        c.startTime = Date().addingTimeInterval(-3 * 86_400)
    }

    static let charts = [
        "chart-pace", "chart-revenue", "chart-adr", "chart-rates", "chart-drift", "chart-steps", "chart-nights",
        "chart-psi",
    ]

    @Test func aReportOfThirteenMonthsOpensInChromiumWithTheFeedsFigures() async throws {
        try await TestDatabase.with { db in
            let w = try await CitusTests.warehouse(url: db.url, distributed: false, world: Self.world)
            // One night (its steps, drift, a first snapshot of each scope), then a reconcile of
            // its own a day later: a second snapshot, so each scope has a PSI.
            let config = try Self.config(w.harness)
            w.server.advance(minutes: 1440)
            let night = try await w.nightly(config)
            #expect([0, 3, 4].contains(night.status), "nightly: \(night.stderr)")
            w.server.advance(minutes: 1440)
            let reconcile = try await w.run([
                "reconcile", "--repair", "--config", config.path,
            ])
            #expect([0, 4].contains(reconcile.status), "reconcile: \(reconcile.stderr)")
            let property = w.server.accounts().map(\.code).sorted()[0]
            let history = try Self.history(property: property)
            let load = try await w.run([
                "load", "reservations", "--source", "webhotelier", "--file", history.path, "--config", config.path,
            ])
            #expect(load.status == 0, "load: \(load.stderr)")
            #expect(try await w.run(["transform", "--config", config.path]).status == 0)

            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let out = folder.appendingPathComponent("report.html")
            let asOf = Timestamps.format(Date())
            let report = try await w.run(["report", "--out", out.path, "--days", "60", "--as-of", asOf])
            #expect(report.status == 0, "report: \(report.stderr)")
            let html = try String(contentsOf: out, encoding: .utf8)
            #expect(!html.contains("src=\"http") && !html.contains("href=\"http"), "the report fetches nothing")
            #expect(!html.contains("<script"))
            let early = try await w.run(["report", "--out", out.path + ".early", "--as-of", "2001-01-01"])
            #expect(early.status == 2)
            #expect(early.stderr.contains("is before anything was loaded"))
            #expect(early.stderr.split(separator: "\n").count == 1)

            let browser = try await Self.chromium(["--dump-dom", out.absoluteString])
            #expect(browser.status == 0, "chromium: \(browser.stderr)")
            let errors = browser.stderr.split(separator: "\n").filter { $0.contains("CONSOLE") }
            #expect(errors.isEmpty, "the browser reported: \(errors)")
            for chart in Self.charts {
                #expect(browser.stdout.contains("<svg id=\"\(chart)\""), "\(chart) is missing from the rendered page")
            }

            // The numbers behind three charts are the feeds' figures, and not zeros.
            let pace = Self.rows(of: "table-pace", in: browser.stdout)
            func paceRow(_ date: String) -> [String]? { pace.first { $0.first == date } }
            let feedPace = try await w.harness.strings(
                """
                select stay_date::text || '|' || sum(room_nights) || '|' || sum(ly_room_nights)
                from feeds.booking_pace_as_of($1::timestamptz, ($1::timestamptz at time zone 'UTC')::date,
                                              ($1::timestamptz at time zone 'UTC')::date + 60, null, true)
                group by stay_date having sum(room_nights) > 0 and sum(ly_room_nights) > 0
                order by stay_date limit 3
                """, [asOf])
            #expect(feedPace.count == 3, "three stay dates with rooms on the books this year and last")
            for line in feedPace {
                let parts = line.split(separator: "|").map(String.init)
                #expect(paceRow(parts[0])?[1] == parts[1], "rooms on the books on \(parts[0])")
                #expect(paceRow(parts[0])?[4] == parts[2], "last year's rooms for \(parts[0])")
            }
            let drift = Self.rows(of: "table-drift", in: browser.stdout)
            let share = try await w.harness.strings(
                """
                select source || '/' || stream || '|' || to_char(min(compared_at) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
                       || '|' || to_char(max(value), 'FM0.000000')
                from recon.drift_metrics where metric = 'mismatched_share' and not after_repair
                group by source, stream, run_id having max(value) > 0 order by 1 limit 1
                """)
            #expect(share.count == 1, "some drift to draw")
            for line in share {
                let parts = line.split(separator: "|").map(String.init)
                let drawn = drift.first { $0[0] == parts[0] && $0[1].hasPrefix(parts[1]) && $0[5] == "found" }
                #expect(drawn?[2] == parts[2], "the drift share of \(parts[0]) compared at \(parts[1])")
            }
            let psi = Self.rows(of: "table-psi", in: browser.stdout)
            let feedPSI = try await w.harness.strings(
                """
                select to_char(max(psi), 'FM0.000000') from feeds.psi_history where psi > 0
                group by source, stream, date_trunc('day', taken_at) order by 1 desc limit 1
                """)
            #expect(feedPSI.count == 1, "some PSI to draw")
            #expect(psi.contains { $0[2] == feedPSI.first })

            // The picture in the README, made by the same browser (only when asked to).
            if let picture = ProcessInfo.processInfo.environment["OTA_REPORT_SCREENSHOT"] {
                let shot = try await Self.chromium([
                    "--screenshot=\(picture)", "--window-size=960,1500", "--hide-scrollbars", out.absoluteString,
                ])
                #expect(shot.status == 0, "screenshot: \(shot.stderr)")
            }
            await w.server.stop()
        }
    }

    @Test func anUnknownPropertyAnEmptyWarehouseAndAnEarlyAsOfGiveAClearAnswer() async throws {
        try await TestDatabase.with { db in
            let connection = try await PostgresConnection.connect(db.url)
            _ = try await Migrator().migrate(connection)
            await connection.close()
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let out = folder.appendingPathComponent("empty.html")
            func run(_ arguments: [String]) async throws -> CommandLineRunner.Outcome {
                try await CommandLineRunner.run(["report", "--database-url", db.url] + arguments, environment: [:])
            }
            let empty = try await run(["--out", out.path])
            #expect(empty.status == 0, "\(empty.stderr)")
            let page = try String(contentsOf: out, encoding: .utf8)
            #expect(page.contains("No bookings on the books"))
            #expect(page.contains("No reconciliation"))
            let unknown = try await run(["--property", "NOPE", "--out", out.path])
            #expect(unknown.status == 2)
            #expect(unknown.stderr.contains("property NOPE is not in dims.properties; fix:"))
            #expect(unknown.stderr.split(separator: "\n").count == 1)
        }
    }

    /// The WebHotelier source alone, a 30-day stay window: what the report draws, no more.
    static func config(_ h: PullHarness) throws -> URL {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString).toml")
        try """
        [sources.webhotelier]
        kind = "webhotelier"
        base_url = "\(h.baseURL)"
        credentials_env_prefix = "WH_"
        pending_interval_minutes = 0
        feed_interval_minutes = 0
        stay_window_days = 30
        chunk_days = 30
        requests_per_second = 5000
        burst = 5000
        """.write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    /// 13 months of bookings at `property` as a backfill would bring them: stays from 395 days
    /// ago to 60 days ahead, each booked 1 to 60 days before arrival (never after today), one
    /// to three a night.
    static func history(property: String) throws -> URL {
        let day = 86_400.0
        let today = Calendar(identifier: .gregorian).startOfDay(for: Date())
        var lines: [String] = []
        var id = 9_000_000
        for offset in -395...60 {
            let stay = today.addingTimeInterval(Double(offset) * day)
            for k in 0..<(1 + (offset + 400) % 3) {
                id += 1
                let lead = Double(1 + (id * 7) % 60)
                let booked = min(stay.addingTimeInterval(-lead * day), Date().addingTimeInterval(-3600))
                let from = Timestamps.format(stay).prefix(10)
                let to = Timestamps.format(stay.addingTimeInterval(Double(1 + k) * day)).prefix(10)
                let at = Timestamps.format(booked)
                lines.append(
                    #"{"id":\#(id),"type":"new","data":{"id":\#(id),"property":"\#(property)","status":1,"roomStay":{"from":"\#(from)","to":"\#(to)"},"bookInfo":{"book_date":"\#(at)"},"changes":[{"date":"\#(at)"}],"pricing":{"price":\#(180 + id % 70),"currency":"EUR"}}}"#
                )
            }
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("history-\(UUID().uuidString).ndjson")
        try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    /// A table's rows as the browser parsed them.
    static func rows(of table: String, in dom: String) -> [[String]] {
        guard let start = dom.range(of: "<table id=\"\(table)\"") else { return [] }
        let rest = dom[start.upperBound...]
        let body = rest[..<(rest.range(of: "</table>")?.lowerBound ?? rest.endIndex)]
        return body.components(separatedBy: "<tr>").dropFirst(2).map { row in
            row.components(separatedBy: "<td>").dropFirst().map { String($0.prefix { $0 != "<" }) }
        }
    }

    static func chromium(_ arguments: [String]) async throws -> CommandLineRunner.Outcome {
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("chromium-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: profile) }
        return try await CommandLineRunner.run(
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
                "--enable-logging=stderr", "--v=0", "--user-data-dir=\(profile.path)",
            ] + arguments, executable: "chromium", executableDirectory: URL(fileURLWithPath: "/usr/bin"))
    }
}
