import CLibPQ

/// One row of a `PostgresResult`; cells by position or column name, typed with `decode`.
public struct PostgresRow: Sendable {
    let storage: ResultStorage
    let index: Int32

    /// The row's columns, in order.
    public var columns: [PostgresColumn] { storage.columns }
    public var count: Int { storage.columns.count }

    /// The cell at a column position; the position must exist.
    public subscript(column: Int) -> PostgresCell {
        precondition(column >= 0 && column < storage.columns.count, "column \(column) out of range")
        return PostgresCell(storage: storage, row: index, column: Int32(column))
    }

    /// The cell of the first column with this name; the name must exist (use `decode(_:column:)` to get an error).
    public subscript(name: String) -> PostgresCell {
        guard let column = storage.columnIndex(named: name) else { preconditionFailure("no column named \(name)") }
        return self[column]
    }

    /// Decodes the cell at a column position.
    public func decode<Value: PostgresDecodable>(_ type: Value.Type = Value.self, at column: Int) throws -> Value {
        guard column >= 0 && column < storage.columns.count else {
            throw PostgresDecodingError(
                column: "#\(column)", columnType: nil, valueType: "\(Value.self)",
                reason: "the result has \(storage.columns.count) columns")
        }
        return try self[column].decode(Value.self)
    }

    /// Decodes the cell of the first column with this name.
    public func decode<Value: PostgresDecodable>(_ type: Value.Type = Value.self, column name: String) throws -> Value {
        guard let column = storage.columnIndex(named: name) else {
            throw PostgresDecodingError(
                column: name, columnType: nil, valueType: "\(Value.self)", reason: "the result has no such column")
        }
        return try self[column].decode(Value.self)
    }
}

/// One value of a row, in PostgreSQL's text format, with its column.
public struct PostgresCell: Sendable, CustomStringConvertible {
    let storage: ResultStorage
    let row: Int32
    let columnIndex: Int32

    init(storage: ResultStorage, row: Int32, column: Int32) {
        self.storage = storage
        self.row = row
        self.columnIndex = column
    }

    public var column: PostgresColumn { storage.columns[Int(columnIndex)] }
    public var isNull: Bool { PQgetisnull(storage.result, row, columnIndex) != 0 }

    /// The value's text as the server sent it, nil for NULL.
    public var string: String? {
        isNull ? nil : withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
    }

    /// Calls `body` with the value's bytes (empty for NULL), valid only for the call.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let length = Int(PQgetlength(storage.result, row, columnIndex))
        // The result (and so the pointer) lives while `storage` does, which this call keeps alive.
        return try withExtendedLifetime(storage) {
            try body(UnsafeRawBufferPointer(start: PQgetvalue(storage.result, row, columnIndex), count: length))
        }
    }

    /// Decodes the value; the error names the column, its type and the Swift type, never the value.
    public func decode<Value: PostgresDecodable>(_ type: Value.Type = Value.self) throws -> Value {
        let column = self.column
        if isNull {
            guard let null = Value.postgresNull else {
                throw PostgresDecodingError(
                    column: column.name, columnType: column.type, valueType: "\(Value.self)", reason: "the value is NULL")
            }
            return null
        }
        guard let value = withUnsafeBytes({ Value.decode(postgresText: $0, type: column.type) }) else {
            throw PostgresDecodingError(
                column: column.name, columnType: column.type, valueType: "\(Value.self)",
                reason: "the text is not a valid \(Value.self)")
        }
        return value
    }

    public var description: String { string ?? "NULL" }
}

/// A cell that could not be decoded as the requested Swift type; names the column and both types, never the value.
public struct PostgresDecodingError: Error, Sendable, CustomStringConvertible {
    public let column: String
    public let columnType: PostgresType?
    public let valueType: String
    public let reason: String

    public var description: String {
        let type = columnType.map { " (\($0))" } ?? ""
        return "cannot decode column \"\(column)\"\(type) as \(valueType): \(reason)"
    }
}
