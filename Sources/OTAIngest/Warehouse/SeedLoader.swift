import Foundation
import PostgresClient
import WarehouseSQL

/// Loads `seeds/*.csv` into dims: each file is copied (COPY FROM STDIN) into a
/// holding table, then `sql/seeds/10_upsert.sql` merges them, all in one transaction.
///
/// The files and their columns are fixed here, never read from input: a file
/// whose header differs is refused by name.
public struct SeedLoader: Sendable {
    /// One seed file: its name in `seeds/`, its holding table, and the header it must have.
    struct SeedFile: Sendable {
        var name: String
        var table: String
        var columns: [String]
    }

    static let files: [SeedFile] = [
        SeedFile(
            name: "properties.csv", table: "seed_properties",
            columns: ["property_code", "name", "currency", "time_zone", "reporting_currency"]),
        SeedFile(
            name: "rooms.csv", table: "seed_rooms", columns: ["property_code", "room_code", "name", "max_adults"]),
        SeedFile(
            name: "rate_plans.csv", table: "seed_rate_plans",
            columns: ["property_code", "rate_id", "room_code", "name", "board"]),
        SeedFile(name: "channels.csv", table: "seed_channels", columns: ["channel_code", "name", "channel_group"]),
        SeedFile(
            name: "fx_rates.csv", table: "seed_fx_rates",
            columns: ["rate_date", "base_currency", "quote_currency", "rate"]),
        SeedFile(
            name: "source_precedence.csv", table: "seed_source_precedence",
            columns: ["property_code", "source", "rank"]),
    ]

    /// Rows read per file, by file name.
    public struct Report: Sendable {
        public var rows: [(file: String, rows: Int)]
    }

    private let statements: SQLFileSet

    public init() throws {
        statements = try SQLFileSet(WarehouseSQL.seeds, folder: "seeds")
    }

    /// Loads every known file present in `directory`; missing files are skipped, an unknown header is an error.
    public func load(from directory: URL, into connection: PostgresConnection) async throws -> Report {
        var parsed: [(SeedFile, [[String?]])] = []
        for file in Self.files {
            let url = directory.appendingPathComponent(file.name)
            guard FileManager.default.fileExists(atPath: url.path) else { continue }
            let text: String
            do {
                text = try String(contentsOf: url, encoding: .utf8)
            } catch {
                throw SeedError("\(url.path) cannot be read as UTF-8 text; fix: save it as UTF-8 CSV")
            }
            var records: [[String?]]
            do {
                records = try CSVRecords.parse(text)
            } catch let error as CSVError {
                throw SeedError("\(url.path): \(error.message); fix: correct the CSV quoting")
            }
            let header = records.isEmpty ? [] : records.removeFirst().map { $0 ?? "" }
            guard header == file.columns else {
                throw SeedError(
                    "\(url.path) has header \(header.joined(separator: ",")); fix: use exactly \(file.columns.joined(separator: ","))"
                )
            }
            if let bad = records.firstIndex(where: { $0.count != file.columns.count }) {
                throw SeedError(
                    "\(url.path) line \(bad + 2) has \(records[bad].count) fields, not \(file.columns.count); fix: correct that line"
                )
            }
            parsed.append((file, records))
        }
        guard !parsed.isEmpty else {
            throw SeedError(
                "no seed files in \(directory.path); fix: pass --dir with the folder holding properties.csv, rooms.csv, ..."
            )
        }
        let statements = self.statements.files
        let loaded = parsed
        return try await connection.transaction { conn in
            try await conn.executeScript(statements[0].sql)
            var report = Report(rows: [])
            for (file, records) in loaded {
                let copied = try await conn.copyIn(
                    "copy \(file.table) (\(file.columns.joined(separator: ", "))) from stdin"
                ) { writer in
                    for record in records { try writer.appendRow(record) }
                }
                report.rows.append((file.name, copied))
            }
            for statement in statements.dropFirst() {
                try await conn.executeScript(statement.sql)
            }
            return report
        }
    }
}

/// A seed file is missing, unreadable or malformed; nothing was loaded.
public struct SeedError: UserFacingError {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var exitStatus: ExitStatus { .usage }
    public var description: String { "seed: " + message }
}
