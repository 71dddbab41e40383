import Foundation

/// The `NN_name.sql` files of one folder of `sql/`, in name order: transforms, checks, seed merges.
struct SQLFileSet: Sendable {
    struct File: Sendable {
        var name: String
        var sql: String
    }

    var files: [File]

    init(directory: URL) throws {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw WarehouseFilesError(
                "cannot read the SQL files in \(directory.path); fix: reinstall ota-ingest with its resources")
        }
        files = try names.sorted().filter { $0.hasSuffix(".sql") }.map { name in
            guard name.range(of: #"^[0-9]{2}_[a-z0-9_]+\.sql$"#, options: .regularExpression) != nil else {
                throw WarehouseFilesError(
                    "\(directory.lastPathComponent)/\(name) is not named NN_name.sql; fix: rename it")
            }
            return File(
                name: name, sql: try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8))
        }
    }
}

/// The SQL shipped with the binary is missing or misnamed.
public struct WarehouseFilesError: UserFacingError {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var exitStatus: ExitStatus { .failure }
    public var description: String { "warehouse sql: " + message }
}
