import CLibPQ

/// The rows and column descriptions of one statement's result, with its affected-row count.
///
/// The result keeps libpq's own `PGresult` rather than copying every cell: libpq documents a
/// finished `PGresult` as read-only and safe to share between threads, so this is `Sendable`.
public struct PostgresResult: Sendable, RandomAccessCollection {
    let storage: ResultStorage

    /// The result's columns, in order.
    public var columns: [PostgresColumn] { storage.columns }
    /// Rows inserted, updated, deleted, copied or selected, from the command tag; 0 when it carries none.
    public var affectedRows: Int { storage.affectedRows }
    /// The command tag, e.g. `INSERT 0 3` or `SELECT 2`.
    public var commandTag: String { storage.commandTag }

    public var startIndex: Int { 0 }
    public var endIndex: Int { storage.rowCount }
    public subscript(position: Int) -> PostgresRow {
        precondition(position >= 0 && position < storage.rowCount, "row \(position) out of range")
        return PostgresRow(storage: storage, index: Int32(position))
    }
}

/// A result column: its name and its type.
public struct PostgresColumn: Sendable, Hashable {
    public let name: String
    public let type: PostgresType
}

/// Owns a `PGresult` and the column lookups built from it.
final class ResultStorage: @unchecked Sendable {
    // Never mutated after init; libpq's result is immutable once returned.
    let result: OpaquePointer
    let columns: [PostgresColumn]
    let rowCount: Int
    let affectedRows: Int
    let commandTag: String
    private let indexByName: [String: Int]

    init(taking result: OpaquePointer) {
        self.result = result
        let fieldCount = Int(PQnfields(result))
        columns = (0..<fieldCount).map { field in
            PostgresColumn(
                name: String(cString: PQfname(result, Int32(field))),
                type: PostgresType(rawValue: PQftype(result, Int32(field))))
        }
        rowCount = Int(PQntuples(result))
        affectedRows = Int(String(cString: PQcmdTuples(result))) ?? 0
        commandTag = String(cString: PQcmdStatus(result))
        // The first column wins for duplicate names, as in most drivers.
        indexByName = Dictionary(columns.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    deinit { PQclear(result) }

    func columnIndex(named name: String) -> Int? { indexByName[name] }
}
