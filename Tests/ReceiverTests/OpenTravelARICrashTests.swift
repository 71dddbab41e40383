import Foundation
import HTTPClient
import OTAIngest
import PostgresClient
import TestSupport
import Testing

/// `serve` killed with SIGKILL right after it answered ARI pushes `<Success/>`, while it
/// expands them: every message answered is stored, and once a new `serve` has expanded
/// what waited, the observations are exactly those of expanding every message afresh.
/// The test holds a lock on `staging.ari_observations` while it pushes and kills, so the
/// kill always lands after the answers and inside the expansion's transaction.
@Suite struct OpenTravelARICrashTests {
    static let fingerprint = """
        select count(*)::text || ' ' || coalesce(md5(string_agg(o::text, '|' order by o::text)), '')
        from (select property_code, source, message_key, room_code, rate_id, stay_date, guests, field,
                     int_value, bool_value, min_stay_kind, price, arrival
              from staging.ari_observations) o
        """

    @Test func sigkillOfServeBetweenStoringAndExpandingLosesAndDoublesNothing() async throws {
        let trials = Torture.trials(short: 2, full: 10)
        var violations = 0
        var waitingAtKill = 0
        try await TestDatabase.with { db in
            let connection = try await db.connect()
            _ = try await Migrator().migrate(connection)
            _ = try await connection.execute(
                """
                insert into dims.properties (property_code, name, currency, time_zone, reporting_currency)
                values ('HTL001', 'HTL001', 'EUR', 'UTC', 'EUR')
                """)
            _ = try await connection.execute(
                """
                insert into dims.rooms (property_code, room_code, name, max_adults)
                values ('HTL001', 'DBL', 'DBL', 2), ('HTL001', 'FAM', 'FAM', 4)
                """)
            _ = try await connection.execute(
                """
                insert into dims.rate_plans (property_code, rate_id, room_code, name)
                values ('HTL001', '1', 'DBL', '1'), ('HTL001', '2', 'DBL', '2'), ('HTL001', '3', 'FAM', '3'),
                       ('HTL001', '4', 'FAM', '4')
                """)
            await connection.close()
            let rates = [("DBL", "1"), ("DBL", "2"), ("FAM", "3"), ("FAM", "4")]
            let login = ReceiverHarness.openTravelLogin
            let basic = "Basic " + Data("\(login.username):\(login.password)".utf8).base64EncodedString()
            for trial in 0..<trials {
                let port = try LoopbackPort.freeForServer()
                let serve = try await OpenTravelCrashTests.startServe(port: port, databaseURL: db.url)
                let session = HTTPSession()
                // Expansion inserts into the observations: a share lock held from here to after
                // the kill stops it mid-transaction, while storing (the answer) goes on.
                let holder = try await db.connect()
                _ = try await holder.execute("begin")
                _ = try await holder.execute("lock table staging.ari_observations in share mode")
                // Deltas, then a flush over them.
                var bodies: [String] = []
                for n in 0..<5 {
                    bodies.append(
                        #"<OTA_HotelAvailNotifRQ EchoToken="t\#(trial)-\#(n)"><AvailStatusMessages HotelCode="HTL001"><AvailStatusMessage BookingLimit="\#(n)"><StatusApplicationControl Start="2026-0\#(n + 1)-01" End="2026-0\#(n + 2)-15" InvTypeCode="DBL"/></AvailStatusMessage></AvailStatusMessages></OTA_HotelAvailNotifRQ>"#
                    )
                }
                bodies.append(
                    OpenTravelARIPushTests.availFlush(hotel: "HTL001", rates: rates, days: 750, echo: "flush-\(trial)"))
                var answered: [String] = []
                for body in bodies {
                    let response = try await session.send(
                        HTTPClientRequest(
                            method: "POST", url: "http://127.0.0.1:\(port)/webhooks/opentravel/cm/ari",
                            headers: ["Content-Type": "text/xml; charset=utf-8", "Authorization": basic],
                            body: Array(body.utf8), timeout: .seconds(60)))
                    if OpenTravelPushTests.succeeded(response) { answered.append(body) }
                }
                serve.kill()
                _ = try await serve.wait()
                #expect(answered.count == bodies.count, "trial \(trial): every push answered Success")
                let waiting = try await db.int(
                    "select count(*)::int from staging.ari_messages where expanded_at is null")
                #expect(waiting == bodies.count, "trial \(trial): every message waits at the kill")
                waitingAtKill += waiting
                // The killed serve's expansion may still be blocked on the lock: released, the
                // server ends that session when it next writes to the closed socket.
                _ = try await holder.execute("rollback")
                await holder.close()
                let stored = try await db.int("select count(*)::int from staging.ari_messages")
                #expect(stored == bodies.count * (trial + 1), "trial \(trial): every message answered is stored")

                // A new serve expands what waited, at start.
                let again = try await OpenTravelCrashTests.startServe(port: port, databaseURL: db.url)
                let deadline = ContinuousClock.now + .seconds(120)
                while try await db.int("select count(*)::int from staging.ari_messages where expanded_at is null") > 0,
                    ContinuousClock.now < deadline
                {
                    try await Task.sleep(for: .milliseconds(20))
                }
                #expect(
                    try await db.int("select count(*)::int from staging.ari_messages where expanded_at is null") == 0,
                    "trial \(trial): the new serve expanded everything that waited")
                again.kill()
                _ = try await again.wait()
                let recovered = try await db.strings(Self.fingerprint)

                // The oracle: every message expanded afresh.
                let check = try await db.connect()
                _ = try await check.execute("delete from staging.ari_observations")
                _ = try await check.execute("update staging.ari_messages set expanded_at = null")
                _ = try await OpenTravelARIExpansion.expandAll(on: check)
                await check.close()
                let afresh = try await db.strings(Self.fingerprint)
                #expect(
                    recovered == afresh, "trial \(trial): observations after the kill differ from a clean expansion")
                if recovered != afresh { violations += 1 }
            }
        }
        Torture.record(
            "SIGKILL of serve between storing ARI pushes and expanding them", trials: trials, violations: violations,
            note:
                "every message answered <Success/> is stored; after a restart the observations equal a clean expansion (\(waitingAtKill) messages were waiting at the kills)"
        )
    }
}
