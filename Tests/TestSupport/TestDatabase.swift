import Foundation
import PostgresClient

/// A fresh, uniquely named database on the throwaway test server, so tests running in parallel never share state.
///
/// The server is found through `OTA_TEST_ADMIN_URL` (a superuser connection to any database),
/// or else `.local/pg.env` at the package root, which `make db-start` writes.
public struct TestDatabase: Sendable {
    /// The database's name, `ota_test_` and random hex.
    public let name: String
    /// A libpq connection string for the database, usable as `DATABASE_URL`.
    public let url: String
    private let adminURL: String

    /// A database that exists already (e.g. on a scratch cluster); `drop` is the owner's business.
    public init(name: String, url: String) {
        self.init(name: name, url: url, adminURL: url)
    }

    private init(name: String, url: String, adminURL: String) {
        self.name = name
        self.url = url
        self.adminURL = adminURL
    }

    /// Creates the database; it is empty (no schemas beyond `public`).
    public static func create() async throws -> TestDatabase {
        let adminURL = try Self.adminURL()
        let name = "ota_test_" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let admin = try await PostgresConnection.connect(adminURL, applicationName: "ota-ingest-tests")
        // An identifier cannot be a parameter; the name is generated here, never taken from input.
        do {
            try await admin.execute("create database \(name)")
        } catch {
            await admin.close()
            throw error
        }
        await admin.close()
        return TestDatabase(name: name, url: Self.url(adminURL, database: name), adminURL: adminURL)
    }

    /// Drops the database, disconnecting any session still in it.
    public func drop() async throws {
        let admin = try await PostgresConnection.connect(adminURL, applicationName: "ota-ingest-tests")
        try await admin.execute("drop database if exists \(name) with (force)")
        await admin.close()
    }

    /// Opens a connection to the database.
    public func connect() async throws -> PostgresConnection {
        try await PostgresConnection.connect(url, applicationName: "ota-ingest-tests")
    }

    /// Runs `body` with a fresh database and drops it afterwards, also when `body` throws.
    public static func with<Value>(_ body: (TestDatabase) async throws -> Value) async throws -> Value {
        let database = try await create()
        do {
            let value = try await body(database)
            try await database.drop()
            return value
        } catch {
            try? await database.drop()
            throw error
        }
    }

    /// Runs `body` with a connection to a fresh database, then closes it and drops the database.
    public static func withConnection<Value>(_ body: (PostgresConnection) async throws -> Value) async throws -> Value {
        try await with { database in
            let connection = try await database.connect()
            do {
                let value = try await body(connection)
                await connection.close()
                return value
            } catch {
                await connection.close()
                throw error
            }
        }
    }

    /// The admin conninfo, from the environment or from the file `make db-start` writes.
    public static func adminURL() throws -> String {
        if let url = ProcessInfo.processInfo.environment["OTA_TEST_ADMIN_URL"], !url.isEmpty { return url }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let envFile = root.appendingPathComponent(".local/pg.env")
        if let text = try? String(contentsOf: envFile, encoding: .utf8) {
            for line in text.split(whereSeparator: \.isNewline) where line.hasPrefix("OTA_TEST_ADMIN_URL=") {
                return String(line.dropFirst("OTA_TEST_ADMIN_URL=".count))
            }
        }
        throw TestDatabaseError()
    }

    /// The admin conninfo pointed at another database: the URI's path, or a trailing `dbname`
    /// (in key=value form the last setting of a keyword wins).
    static func url(_ adminURL: String, database: String) -> String {
        if adminURL.contains("://"), var components = URLComponents(string: adminURL) {
            components.path = "/" + database
            if let url = components.string { return url }
        }
        return adminURL + " dbname=" + database
    }
}

/// No test server is configured.
public struct TestDatabaseError: Error, CustomStringConvertible {
    public var description: String {
        "no PostgreSQL test server: OTA_TEST_ADMIN_URL is not set and .local/pg.env does not exist; "
            + "fix: run `make db-start` (or `make test`)"
    }
}

extension TestDatabase {
    /// The first column of every row, as text, on a connection of its own.
    public func strings(_ sql: String, _ parameters: [(any PostgresBindable)?] = []) async throws -> [String] {
        let connection = try await connect()
        do {
            let rows = try await connection.query(sql, parameters).map { try $0.decode(String.self, at: 0) }
            await connection.close()
            return rows
        } catch {
            await connection.close()
            throw error
        }
    }

    /// The first column of the first row, as an integer.
    public func int(_ sql: String, _ parameters: [(any PostgresBindable)?] = []) async throws -> Int {
        let connection = try await connect()
        do {
            let value = try await connection.query(sql, parameters)[0].decode(Int.self, at: 0)
            await connection.close()
            return value
        } catch {
            await connection.close()
            throw error
        }
    }
}
