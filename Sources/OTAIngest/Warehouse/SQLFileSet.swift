import PostgresClient
import WarehouseSQL

/// The `NN_name.sql` files of one folder of `sql/`, in name order: transforms, checks, seed merges.
struct SQLFileSet: Sendable {
    struct File: Sendable {
        var name: String
        var sql: String
    }

    var files: [File]

    /// The files of `folder` as compiled into the binary (`WarehouseSQL.transforms` and the like).
    init(_ embedded: [WarehouseSQL.File], folder: String) throws {
        files = try embedded.map { file in
            guard file.name.range(of: #"^[0-9]{2}_[a-z0-9_]+\.sql$"#, options: .regularExpression) != nil else {
                throw WarehouseFilesError("\(folder)/\(file.name) is not named NN_name.sql; fix: rename it")
            }
            return File(name: file.name, sql: file.sql)
        }
    }
}

/// The SQL compiled into the binary is misnamed.
public struct WarehouseFilesError: UserFacingError {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var exitStatus: ExitStatus { .failure }
    public var description: String { "warehouse sql: " + message }
}

extension SQLFileSet {
    /// The hex SHA-256 recorded for an applied file (migrations, feeds). libpq has no
    /// hashing of its own and Foundation has no SHA-256 on Linux; the server's sha256()
    /// is exact and always there.
    static func checksum(of sql: String, on connection: PostgresConnection) async throws -> String {
        let rows = try await connection.query("select encode(sha256($1::bytea), 'hex')", [Array(sql.utf8)])
        return try rows[0].decode(String.self, at: 0)
    }
}
