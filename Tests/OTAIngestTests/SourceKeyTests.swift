import Foundation
import OTAIngest
import PostgresClient
import TestSupport
import Testing

/// Each source keeps its own truth: a warehouse built before `source` joined the
/// fact keys migrates to what a fresh build gives, and pricing says which
/// source's value to read.
@Suite struct SourceKeyTests {
    /// The migrations up to and including 0042, and the transforms as they were then.
    private static let migrationsBefore = 42
    private static var transformsBefore: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/transforms-before-source-keys")
    }

    /// Applies bootstrap.sql and the shipped migrations up to `last` the way
    /// `ota-ingest migrate` does (one transaction each, recorded with its checksum),
    /// so a later migrate to head applies only the rest.
    private func migrate(upTo last: Int, _ connection: PostgresConnection) async throws {
        let root = WarehouseFixture.repositoryRoot.appendingPathComponent("sql")
        try await connection.executeScript(
            String(contentsOf: root.appendingPathComponent("bootstrap.sql"), encoding: .utf8))
        let names = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("migrations").path)
            .filter { $0.hasSuffix(".sql") && Int($0.prefix(4))! <= last }.sorted()
        for name in names {
            let sql = try String(
                contentsOf: root.appendingPathComponent("migrations").appendingPathComponent(name), encoding: .utf8)
            try await connection.transaction { conn in
                try await conn.executeScript(sql)
                try await conn.execute(
                    "insert into ops.schema_migrations (version, name, checksum) values ($1, $2, encode(sha256($3::bytea), 'hex'))",
                    [Int(name.prefix(4))!, name, Array(sql.utf8)])
            }
        }
    }

    /// One promotion with the transforms of the time before sources joined the keys.
    private func transformBefore(_ connection: PostgresConnection, run: String) async throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.transformsBefore.path).sorted()
        #expect(files.count == 10)
        try await connection.execute("insert into ops.runs (run_id, command) values ($1, 'transform')", [run])
        try await connection.transaction { conn in
            _ = try await conn.query("select set_config('ota.run_id', $1, true)", [run])
            for file in files {
                try await conn.executeScript(
                    String(contentsOf: Self.transformsBefore.appendingPathComponent(file), encoding: .utf8))
            }
        }
    }

    /// Two sources over the same cells and one booking number, observed in turns
    /// (each source's prices its own; hotel_cm's change every other turn, so under
    /// one key ota_feed's versions cut runs of equal hotel_cm values), landed in
    /// `round` (0, 1, ...).
    private func stageTwoSources(round: Int, _ connection: PostgresConnection) async throws {
        _ = try await connection.query("select staging.ensure_load_partitions('2026-01-01'::date)")
        let sql = """
            insert into staging.rate_observations (source, stream, property_code, rate_id, room_code, stay_date, adults,
                children, channel, price, currency, closeout, min_stay, observed_at, load_date, batch_id, run_id, raw)
            select s.source, 'rates', 'HTL001', '20001', 'DBL', '2026-03-01'::date + n.night, 2, 0, '',
                   100 + s.offset_ + (t.turn / s.every + n.night) % 3 * 5, 'EUR', false, 1,
                   '2026-01-01'::timestamptz + t.turn * interval '1 hour' + s.shift, '2026-01-01', 'b', 'test', '{}'
            from (values ('hotel_cm', 0, interval '0 minutes', 2), ('ota_feed', 1000, interval '20 minutes', 1))
                     s(source, offset_, shift, every)
            cross join generate_series(0, 4) n(night)
            cross join generate_series($1::integer * 3, $1::integer * 3 + 2) t(turn);

            insert into staging.availability_observations (source, property_code, room_code, stay_date, allotment,
                stop_sell, min_stay, max_stay, closed_to_arrival, closed_to_departure, observed_at, load_date,
                batch_id, run_id, raw)
            select s.source, 'HTL001', 'DBL', '2026-03-01'::date + n.night, s.offset_ + (t.turn / s.every + n.night) % 2,
                   false, 1, 0, false, false,
                   '2026-01-01'::timestamptz + t.turn * interval '1 hour' + s.shift, '2026-01-01', 'b', 'test', '{}'
            from (values ('hotel_cm', 1, interval '0 minutes', 2), ('ota_feed', 10, interval '20 minutes', 1))
                     s(source, offset_, shift, every)
            cross join generate_series(0, 4) n(night)
            cross join generate_series($1::integer * 3, $1::integer * 3 + 2) t(turn);

            insert into staging.reservation_events (source, property_code, confirmation_id, event_type, origin, ota_time,
                content_hash, raw, data, batch_id, run_id)
            select s.source, 'HTL001', '777', 'update', 'pull', b.at, encode(sha256(convert_to(b.data::text, 'UTF8')), 'hex'),
                   convert_to(b.data::text, 'UTF8'), b.data, 'b', 'test'
            from (values ('hotel_cm', interval '0 minutes', 0), ('ota_feed', interval '20 minutes', 50))
                     s(source, shift, extra)
            cross join generate_series($1::integer * 2, $1::integer * 2 + 1) v(turn)
            cross join lateral (
                select '2026-01-01'::timestamptz + v.turn * interval '1 hour' + s.shift as at,
                       jsonb_build_object(
                           'id', 777, 'status', case when v.turn = 2 then 0 else 1 end,
                           'roomStay', jsonb_build_object('roomType', 'DBL', 'rateID', 20001, 'from', '2026-03-01',
                                                          'to', '2026-03-03', 'rooms', 1),
                           'bookInfo', jsonb_build_object('source', 'Direct'),
                           'pricing', jsonb_build_object('price', 200 + v.turn + s.extra, 'currency', 'EUR',
                                                         'extras', 0)) as data
            ) b;
            """
        try await connection.executeScript(sql.replacingOccurrences(of: "$1::integer", with: String(round)))
    }

    /// Every fact row of the keyed tables, as text, sorted.
    private func facts(_ connection: PostgresConnection) async throws -> [String] {
        var lines: [String] = []
        for table in ["facts.rates", "facts.availability", "facts.reservations", "facts.reservation_nights"] {
            // Table names come from the fixed list above, never from input.
            lines += try await connection.query("select t::text from \(table) t order by 1").map {
                "\(table) " + (try $0.decode(String.self, at: 0))
            }
        }
        return lines
    }

    @Test func aWarehouseBuiltBeforeSourcesJoinedTheKeysMigratesToAFreshBuild() async throws {
        try await TestDatabase.with { db in
            let connection = try await db.connect()
            do {
                try await migrate(upTo: Self.migrationsBefore, connection)
                try await connection.execute(
                    "insert into dims.properties (property_code, name, currency, time_zone, reporting_currency) values ('HTL001', 'H', 'EUR', 'UTC', 'EUR')"
                )
                // Two promotions, so the old in-order path interleaved the sources too.
                try await stageTwoSources(round: 0, connection)
                try await transformBefore(connection, run: "before-1")
                try await stageTwoSources(round: 1, connection)
                try await transformBefore(connection, run: "before-2")
                // Before: one chain per cell whatever the source; its versions alternate.
                #expect(try await db.int("select count(*)::int from facts.rates where is_current") == 5)
                #expect(try await db.int("select count(*)::int from facts.reservations where is_current") == 1)
                let handOvers = try await db.int(
                    """
                    select count(*)::int from (
                        select source, lead(source) over (partition by rate_id, stay_date order by valid_from) as next
                        from facts.rates) x
                    where x.source <> x.next
                    """)
                #expect(handOvers > 10, "the sources' versions interleave under one key before the migration")

                _ = try await Migrator().migrate(connection)
                let migrated = try await facts(connection)
                #expect(try await db.int("select count(*)::int from facts.rates where is_current") == 10)
                #expect(try await db.int("select count(*)::int from facts.availability where is_current") == 10)
                #expect(try await db.int("select count(*)::int from facts.reservations where is_current") == 2)

                let rebuilt = try await TransformRunner().run(connection, fullRefresh: true, checkAll: true)
                #expect(rebuilt.failedChecks.isEmpty, "\(rebuilt.rendered)")
                let fresh = try await facts(connection)
                #expect(migrated.count == fresh.count)
                #expect(Set(migrated).subtracting(fresh).sorted() == [], "rows only the migration has")
                #expect(Set(fresh).subtracting(migrated).sorted() == [], "rows only a fresh build has")
                await connection.close()
            } catch {
                await connection.close()
                throw error
            }
        }
    }

    @Test func pricingPrefersTheRankedSourceAndSaysWhenNoneIs() async throws {
        try await WarehouseFixture.with { w in
            try await w.connection.execute("delete from dims.source_precedence")
            try await stageTwoSources(round: 0, w.connection)
            try await w.transform()
            func preferred() async throws -> [String] {
                try await w.strings(
                    """
                    select source || ':' || count(*) filter (where preferred) || '/' || count(*)
                    from feeds.pricing_current_rates where property_code = 'HTL001' group by source order by source
                    """)
            }
            func precedence() async throws -> [String] {
                try await w.strings(
                    """
                    select distinct coalesce(rate_source_precedence, '-') from feeds.property_health
                    where property_code = 'HTL001'
                    """)
            }
            try await w.connection.execute(
                "insert into ops.runs (run_id, command, status) values ('test', 'pull rates hotel_cm', 'succeeded')")
            try await w.connection.execute(
                "insert into ops.batches (run_id, source, stream, property_code, batch_range, rows_landed) values ('test', 'hotel_cm', 'rates', 'HTL001', 'x', 5)"
            )
            // Several sources and no precedence: every row preferred, and the health feed says so.
            #expect(try await preferred() == ["hotel_cm:5/5", "ota_feed:5/5"])
            #expect(try await precedence() == ["missing"])

            try await w.connection.execute(
                "insert into dims.source_precedence (property_code, source, rank) values ('', 'ota_feed', 1), ('HTL001', 'hotel_cm', 1), ('HTL001', 'ota_feed', 2)"
            )
            // The property's own ranks override the general one.
            #expect(try await preferred() == ["hotel_cm:5/5", "ota_feed:0/5"])
            #expect(try await precedence() == ["set"])
            #expect(
                try await w.int(
                    "select count(distinct (rate_id, room_code, stay_date, adults, children, channel))::int from feeds.pricing_current_rates where preferred"
                ) == 5, "one preferred value per cell")

            // One source alone is preferred whatever its rank.
            try await w.connection.execute(
                "update staging.rate_observations set stay_date = stay_date + 10 where source = 'ota_feed'")
            try await w.transform(fullRefresh: true)
            #expect(try await preferred() == ["hotel_cm:5/5", "ota_feed:5/5"])
        }
    }
}
