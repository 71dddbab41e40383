import Foundation
import OTAIngest
import PostgresClient
import TestSupport
import Testing

/// The schema is ready to be distributed by property on Citus (docs/scaling.md):
/// Citus requires the distribution column in every primary key, unique index and
/// exclusion constraint, so the catalog must show property_code in each of them on
/// the schemas that would be distributed.
@Suite struct DistributionReadinessTests {
    @Test func everyKeyOnDistributedSchemasIncludesTheProperty() async throws {
        try await WarehouseFixture.with { w in
            let missing = try await w.connection.query(
                """
                select n.nspname || '.' || c.relname || ': ' || pg_get_indexdef(x.indexrelid)
                from pg_index x
                join pg_class c on c.oid = x.indrelid
                join pg_namespace n on n.oid = c.relnamespace
                where n.nspname in ('staging', 'facts', 'recon')
                  and (x.indisunique or x.indisexclusion or x.indisprimary)
                  and not exists (
                      select 1 from pg_attribute a
                      where a.attrelid = c.oid and a.attname = 'property_code' and a.attnum = any (x.indkey))
                order by 1
                """
            ).map { try $0.decode(String.self, at: 0) }
            #expect(missing.isEmpty, "keys without property_code: \(missing.joined(separator: "; "))")

            // The check itself can fail: a key without the property is seen.
            try await w.connection.execute("create table facts.readiness_probe (id bigint primary key)")
            let probe = try await w.connection.query(
                """
                select count(*)::int from pg_index x join pg_class c on c.oid = x.indrelid
                where c.oid = 'facts.readiness_probe'::regclass and x.indisprimary
                  and not exists (
                      select 1 from pg_attribute a
                      where a.attrelid = c.oid and a.attname = 'property_code' and a.attnum = any (x.indkey))
                """)
            #expect(try probe[0].decode(Int.self, at: 0) == 1)
        }
    }

    @Test func everyTableOnDistributedSchemasHasTheDistributionColumn() async throws {
        try await WarehouseFixture.with { w in
            let missing = try await w.connection.query(
                """
                select n.nspname || '.' || c.relname
                from pg_class c join pg_namespace n on n.oid = c.relnamespace
                where n.nspname in ('staging', 'facts', 'recon') and c.relkind in ('r', 'p') and not c.relispartition
                  and not exists (
                      select 1 from pg_attribute a
                      where a.attrelid = c.oid and a.attname = 'property_code' and not a.attisdropped)
                order by 1
                """
            ).map { try $0.decode(String.self, at: 0) }
            #expect(missing.isEmpty, "tables without property_code: \(missing)")
        }
    }

    /// Migration 0040 spelled the row hashes out so they are inlined; every stored
    /// hash must stay what row(...)::text gave, including quoted and NULL fields.
    @Test func rowHashesEqualTheRowTextTheyReplaced() async throws {
        try await WarehouseFixture.with { w in
            let rates = try await w.connection.query(
                """
                with v(price, currency, closeout, min_stay, available) as (values
                    (80.00::numeric, 'EUR', false, 1, null::int), (null, 'a b', true, -3, 0), (-1.5, '', null, null, 7),
                    (0, 'x"y\\z', false, 2, 3), (12345678.91, 'a,b(c)', true, 1, null), (1, E'tab\\there', false, 1, 1),
                    (1, null, false, 1, 1), (1, E'n\\nl', true, 1, 1), ('NaN', 'GBP', true, 0, 0))
                select count(*)::int from v
                where facts.rate_row_hash(price, currency, closeout, min_stay, available)
                      is distinct from md5(row(price, currency, closeout, min_stay, available)::text)::uuid
                """)
            #expect(try rates[0].decode(Int.self, at: 0) == 0)
            let availability = try await w.connection.query(
                """
                with v(a, b, c, d, e, f) as (values (1, true, 1, 0, false, true), (-5, false, 3, 9, true, false),
                    (null::int, null::boolean, null::int, null::int, null::boolean, null::boolean))
                select count(*)::int from v
                where facts.availability_row_hash(a, b, c, d, e, f) is distinct from md5(row(a, b, c, d, e, f)::text)::uuid
                """)
            #expect(try availability[0].decode(Int.self, at: 0) == 0)
            // Inlined: the plan shows the expression, not a call of the function.
            let plan = try await w.connection.query(
                "explain verbose select facts.rate_row_hash(price, currency, closeout, min_stay, 1) from facts.rates"
            ).map { try $0.decode(String.self, at: 0) }.joined(separator: "\n")
            #expect(plan.contains("md5("), "\(plan)")
            #expect(!plan.contains("rate_row_hash"), "\(plan)")
        }
    }

    /// Migration 0191 spelled out the wider rate hash (0171's concat_ws is only stable, so the
    /// immutable function was never inlined); the hash of every combination of values, NULLs
    /// and odd text included, stays what concat_ws gave, and the plan no longer calls it.
    @Test func theWiderRateHashIsInlinedAndUnchanged() async throws {
        try await WarehouseFixture.with { w in
            let differing = try await w.connection.query(
                """
                with p(price) as (values (80.00::numeric), (null), (-1.5), ('NaN')),
                     c(currency) as (values ('EUR'), (null), (''), ('a|b')),
                     b(x) as (values (true), (false), (null::boolean)),
                     i(n) as (values (1), (null::int), (-3)),
                     k(kind) as (values ('arrival'), (null), (''))
                select count(*)::int from p, c, b b1, i i1, b b2, b b3, i i3, k, b b4
                where facts.rate_version_hash(price, currency, b1.x, i1.n, 7, false, b2.x, b3.x, i3.n, kind, b4.x)
                      is distinct from
                      case when b2.x is null and b3.x is null and i3.n is null and kind is null and b4.x is null
                           then facts.rate_row_hash(price, currency, b1.x, i1.n, 7)
                           else md5(concat_ws('|', price, currency, b1.x, i1.n, 7, b2.x, b3.x, i3.n, kind, b4.x))::uuid end
                """)
            #expect(try differing[0].decode(Int.self, at: 0) == 0)
            let plan = try await w.connection.query(
                """
                explain verbose select facts.rate_version_hash(price, currency, closeout, min_stay, available, withdrawn,
                    closed_to_arrival, closed_to_departure, max_stay, min_stay_kind, tax_included) from facts.rates
                """
            ).map { try $0.decode(String.self, at: 0) }.joined(separator: "\n")
            #expect(plan.contains("md5("), "\(plan)")
            #expect(!plan.contains("rate_version_hash"), "\(plan)")
        }
    }
}
