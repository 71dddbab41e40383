import Foundation
import TestSupport
import Testing

@testable import OTAIngest

/// `ota-ingest status` as a person and a monitor read it. The end-to-end reading
/// after a resumed night is `expectReadable`, called by NightlyTests' resumed night.
@Suite("Status")
struct StatusTests {
    @Test("durations read in the two largest units, figures to three decimals, timestamps to the second")
    func units() {
        #expect(StatusTable.duration(28_881) == "8h 1m")
        #expect(StatusTable.duration(28_881_154) == "334d 6h")
        #expect(StatusTable.duration(0.42) == "0.4s")
        #expect(StatusTable.duration(45) == "45s")
        #expect(StatusTable.duration(481.6) == "8m 2s")
        #expect(StatusTable.duration(-90) == "-1m 30s")
        #expect(StatusTable.figure(0.103448275862069) == "0.103")
        #expect(StatusTable.figure(40) == "40")
        #expect(StatusTable.figure(0.5) == "0.5")
        #expect(StatusTable.timestamp("2026-12-03T09:33:13.123456+00:00") == "2026-12-03 09:33:13Z")
        #expect(StatusTable.timestamp("2026-12-03T09:33:13+00:00") == "2026-12-03 09:33:13Z")
    }

    @Test("a table wider than its width gives up free text first, then its widest columns")
    func width() {
        let columns = [
            StatusReport.Column("command", flexible: true), StatusReport.Column("status"),
            StatusReport.Column("started_at", "started", .timestamp), StatusReport.Column("error", flexible: true),
        ]
        let row: [String: Any] = [
            "command": "pull reservations --ping HTL001 webhotelier", "status": "failed",
            "started_at": "2026-12-03T09:33:13.123456+00:00",
            "error": String(repeating: "connection refused ", count: 9),
        ]
        let lines = StatusTable(width: 80).table(columns, [row])
        #expect(lines.allSatisfy { $0.count <= 80 }, "\(lines)")
        #expect(lines[1].contains("2026-12-03 09:33:13Z") && lines[1].contains("failed"), "\(lines)")
        #expect(lines[1].hasSuffix("…"))
    }

    /// Reads `status` in both formats after a night over `config` ran, was resumed, and ended
    /// with `exit`. Two files loaded by hand show as one row.
    static func expectReadable(_ h: PullHarness, config: URL, exit: Int32) async throws {
        let plan = NightlyStep.plan(try ConfigLoader.load(path: config.path)).map(\.name)
        let dir = try BackfillFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for seed in [1, 2] as [UInt64] {
            let file = dir.appendingPathComponent("rates-\(seed).ndjson")
            try BackfillFixtures.write(BackfillFixtures.ndjson(BackfillFixtures.rates(count: 4, seed: seed)), to: file)
            let load = try await CommandLineRunner.run(
                ["load", "rates", "--source", "archive", "--file", file.path, "--database-url", h.db.url])
            #expect(load.status == 0, "\(load.stderr)")
        }

        let json = try await CommandLineRunner.run(["status", "--format", "json", "--database-url", h.db.url])
        #expect(json.status == 0, "\(json.stderr)")
        let document = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any] ?? [:]
        let night = document["night"] as? [String: Any] ?? [:]
        let nightID = try await h.strings("select run_id from ops.runs where command = 'nightly'")
        #expect(nightID.count == 1 && night["run_id"] as? String == nightID.first, "\(night)")
        #expect((night["exit_status"] as? NSNumber)?.int32Value == exit, "\(night)")
        let steps = document["last_night"] as? [[String: Any]] ?? []
        #expect(steps.compactMap { $0["step"] as? String } == plan, "\(steps)")
        // Exact figures: timestamps to the microsecond, seconds unrounded.
        let stamps = steps.compactMap { $0["started_at"] as? String }
        #expect(stamps.count == plan.count && stamps.contains { $0.contains(".") }, "\(stamps)")
        let seconds = steps.compactMap { ($0["seconds"] as? NSNumber)?.doubleValue }
        #expect(seconds.count == plan.count && seconds.contains { $0 != $0.rounded() }, "\(seconds)")
        let runs = document["runs"] as? [[String: Any]] ?? []
        #expect(runs.filter { ($0["command"] as? String)?.hasPrefix("load rates archive") == true }.count == 1)
        for key in ["watermarks", "health", "dead_letters"] {
            let scopes = (document[key] as? [[String: Any]] ?? []).map {
                "\($0["source"] ?? "") \($0["stream"] ?? "") \($0["property_code"] ?? "")"
            }
            #expect(Set(scopes).count == scopes.count, "\(key): one row per source, stream and property: \(scopes)")
        }
        let lags = (document["health"] as? [[String: Any]] ?? []).compactMap {
            ($0["event_lag_p95_seconds"] as? NSNumber)?.doubleValue
        }
        #expect(!lags.isEmpty, "the reconciles measured the event lag")

        let table = try await CommandLineRunner.run(["status", "--database-url", h.db.url])
        #expect(table.status == 0, "\(table.stderr)")
        let lines = table.stdout.split(separator: "\n").map(String.init)
        #expect(lines.allSatisfy { $0.count <= 120 }, "wider than 120: \(lines.filter { $0.count > 120 })")
        #expect(lines.contains { $0.hasPrefix("== the last nightly: ") && $0.contains(nightID.first ?? "?") })
        // The steps in run order, each on its own line after the section's heading row.
        let section = lines.drop { !$0.hasPrefix("== the last nightly's steps") }.dropFirst(2).prefix(plan.count)
        #expect(section.map { $0.split(separator: "  ").first.map(String.init) ?? "" } == plan, "\(section)")
        #expect(!table.stdout.contains(/\d\d:\d\d:\d\d\.\d/), "timestamps to the second")
        #expect(lines.filter { $0.hasPrefix("load rates archive") }.count == 1, "\(table.stdout)")
        for lag in lags where lag >= 100_000 {
            #expect(!table.stdout.contains(String(Int(lag))), "a lag in raw seconds: \(Int(lag))")
            #expect(table.stdout.contains(StatusTable.duration(lag)), "lag \(lag) as \(StatusTable.duration(lag))")
        }
    }
}
