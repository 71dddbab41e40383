import Foundation
import OTASandbox
import Testing

@Suite struct WebHotelierAPITests {
    @Test func everyResponseHasTheWrapperAndTheDocumentedErrors() async throws {
        try await withSandbox { server, base in
            let account = server.accounts()[0]
            let ok = try await TestHTTP.request(
                "\(base)/manage/availability?from=2026-01-10&to=2026-01-11", headers: TestHTTP.basic(account))
            let json = try #require(ok.json)
            #expect(
                Set(json.keys) == ["method", "http_method", "http_code", "error_code", "error_msg", "params", "data"])
            #expect(json["error_code"] as? String == "OK")
            #expect(json["http_code"] as? Int == 200)
            let params = json["params"] as? [[String: String]]
            #expect(params?.first == ["type": "URL", "name": "from", "value": "2026-01-10"])

            let cases: [(String, String, [String: String], Int, String)] = [
                ("GET", "/reservation/new", [:], 403, "NO_AUTH"),
                ("GET", "/reservation/new", ["Authorization": "Basic eDp5"], 403, "INVALID_AUTH"),
                ("POST", "/reservation/new", TestHTTP.basic(account), 403, "INVALID_METHOD"),
                ("GET", "/reservation/999", TestHTTP.basic(account), 404, "NOT_FOUND"),
                ("GET", "/nothing/here", TestHTTP.basic(account), 404, "NOT_FOUND"),
                (
                    "GET", "/manage/availability?from=2026-02-30&to=2026-03-01", TestHTTP.basic(account), 500,
                    "INVALID_PARAM"
                ),
                ("GET", "/manage/rates?from=2026-03-02&to=2026-03-01", TestHTTP.basic(account), 500, "INVALID_PARAM"),
                ("GET", "/rate/HTL999", TestHTTP.basic(account), 404, "NOT_FOUND"),
                ("GET", "/rate/HTL002", TestHTTP.basic(account), 403, "FORBIDDEN"),
            ]
            for (method, path, headers, status, code) in cases {
                let reply = try await TestHTTP.request(base + path, method: method, headers: headers)
                #expect(reply.status == status, "\(method) \(path)")
                #expect(reply.json?["error_code"] as? String == code, "\(method) \(path)")
                #expect((reply.json?["data"] as? [String: Any])?.isEmpty == true)
            }
        }
    }

    /// Expands `date` and `from`/`to` entries to nights.
    private func nights(_ entry: [String: Any]) -> [String] {
        if let date = entry["date"] as? String { return [date] }
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd"
        formatter.timeZone = TimeZone(identifier: "UTC")
        var day = formatter.date(from: entry["from"] as! String)!
        let last = formatter.date(from: entry["to"] as! String)!
        var result: [String] = []
        while day <= last {
            result.append(formatter.string(from: day))
            day += 86400
        }
        return result
    }

    @Test func availabilityAndRatesExpandToTheTruthGrids() async throws {
        try await withSandbox { server, base in
            server.advance(minutes: 1440)
            let account = server.accounts()[2]
            let auth = TestHTTP.basic(account)
            let window = "from=2026-01-01&to=2026-03-31"
            let availability = try #require(
                try await TestHTTP.request("\(base)/manage/availability?\(window)", headers: auth).data)
            var seen: [String: [String: Int]] = [:]
            for (room, entries) in availability {
                for entry in entries as! [[String: Any]] {
                    for night in nights(entry) {
                        #expect(seen["\(room)|\(night)"] == nil)
                        seen["\(room)|\(night)"] = [
                            "allot": entry["allot"] as! Int, "stopsell": entry["stopsell"] as! Int,
                            "minstay": entry["minstay"] as! Int, "maxstay": entry["maxstay"] as! Int,
                            "checkin": entry["checkin"] as! Int, "checkout": entry["checkout"] as! Int,
                        ]
                    }
                }
            }
            let truth = server.availabilityGrid(property: account.code).filter { $0.date <= "2026-03-31" }
            #expect(seen.count == truth.count)
            for cell in truth {
                #expect(
                    seen["\(cell.room)|\(cell.date)"] == [
                        "allot": cell.allotment, "stopsell": cell.stopSell ? 1 : 0, "minstay": cell.minStay,
                        "maxstay": cell.maxStay, "checkin": cell.closedToArrival ? 0 : 1,
                        "checkout": cell.closedToDeparture ? 0 : 1,
                    ])
            }

            let rates = try #require(try await TestHTTP.request("\(base)/manage/rates?\(window)", headers: auth).data)
            var prices: [String: Decimal] = [:]
            var restrictions: [String: [Int]] = [:]
            for (rate, entries) in rates {
                for entry in entries as! [[String: Any]] {
                    for night in nights(entry) {
                        restrictions["\(rate)|\(night)"] = [
                            entry["closeout"] as? Int ?? 0, entry["min_stay"] as? Int ?? 1,
                        ]
                        for p in entry["pricing"] as! [[String: Any]] {
                            prices["\(rate)|\(night)|\(p["adults"] as! Int)"] = Decimal(string: "\(p["price"]!)")
                        }
                    }
                }
            }
            let rateTruth = server.rateGrid(property: account.code).filter { $0.date <= "2026-03-31" }
            #expect(prices.count == rateTruth.count)
            for cell in rateTruth {
                #expect(prices["\(cell.rateID)|\(cell.date)|\(cell.adults)"] == Decimal(cell.priceCents) / 100)
                #expect(restrictions["\(cell.rateID)|\(cell.date)"] == [cell.closeout ? 1 : 0, cell.minStay])
            }
        }
    }

    @Test func searchFindsBookingsModifiedSinceADate() async throws {
        try await withSandbox { server, base in
            server.advance(minutes: 2 * 1440)
            let account = server.accounts()[0]
            let reply = try await TestHTTP.request(
                "\(base)/reservation?last_mod_fromd=2026-01-02&order=ASC&maxrows=1000&verbose=0",
                headers: TestHTTP.basic(account))
            let ids = (reply.data?["reservations"] as? [[String: Any]])?.compactMap { $0["id"] as? Int } ?? []
            let cutoff = Date(timeIntervalSince1970: 1_767_312_000)  // 2026-01-02T00:00:00Z
            let current = Dictionary(grouping: server.bookingVersions(property: account.code), by: \.bookingID)
                .values.map { $0.last! }
            let expected = current.filter { $0.otaTime >= cutoff }.sorted {
                ($0.otaTime, $0.bookingID) < ($1.otaTime, $1.bookingID)
            }
            #expect(ids == expected.map(\.bookingID))
            #expect(reply.data?["total"] as? Int == expected.count)
        }
    }
}
