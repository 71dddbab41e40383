import PostgresClient

/// What the warehouse holds, schema by schema: printed after `migrate`.
public struct SchemaSummary: Sendable {
    public struct Line: Sendable {
        public var schema: String
        public var tables: Int
        public var views: Int
        public var functions: Int
    }

    public var lines: [Line]
    public var migrations: Int

    public static func read(_ connection: PostgresConnection) async throws -> SchemaSummary {
        let rows = try await connection.query(
            """
            select n.nspname::text,
                   (select count(*) from pg_class c where c.relnamespace = n.oid
                      and c.relkind in ('r', 'p') and not c.relispartition)::int,
                   (select count(*) from pg_class c where c.relnamespace = n.oid and c.relkind in ('v', 'm'))::int,
                   (select count(*) from pg_proc p where p.pronamespace = n.oid)::int
            from pg_namespace n
            join unnest(array['staging', 'dims', 'facts', 'recon', 'feeds', 'ops'])
                 with ordinality as layer(name, position) on layer.name = n.nspname
            order by layer.position
            """
        )
        let lines = try rows.map { row in
            Line(
                schema: try row.decode(String.self, at: 0), tables: try row.decode(Int.self, at: 1),
                views: try row.decode(Int.self, at: 2), functions: try row.decode(Int.self, at: 3))
        }
        let count = try await connection.query("select count(*)::int from ops.schema_migrations")
        return SchemaSummary(lines: lines, migrations: try count[0].decode(Int.self, at: 0))
    }

    public var rendered: String {
        var text = "schema    tables  views  functions\n"
        for line in lines {
            text += line.schema.padding(toLength: 10, withPad: " ", startingAt: 0)
            text += String(line.tables).leftPadded(6) + "  " + String(line.views).leftPadded(5) + "  "
            text += String(line.functions).leftPadded(9) + "\n"
        }
        text += "\(migrations) migrations applied"
        return text
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
