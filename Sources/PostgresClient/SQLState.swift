/// A five-character SQLSTATE code, as listed in PostgreSQL's "Error Codes" appendix.
///
/// The constants read naturally in a catch: `catch let error as PostgresError where error.sqlState == .uniqueViolation`.
public struct SQLState: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }

    /// The two-character class, e.g. "23" for every integrity constraint violation.
    public var errorClass: String { String(rawValue.prefix(2)) }

    public var description: String { rawValue }

    // Class 08: connection exception.
    public static let connectionException: SQLState = "08000"
    public static let connectionFailure: SQLState = "08006"
    public static let sqlClientUnableToEstablishConnection: SQLState = "08001"
    public static let protocolViolation: SQLState = "08P01"
    // Class 22: data exception.
    public static let characterNotInRepertoire: SQLState = "22021"
    public static let untranslatableCharacter: SQLState = "22P05"
    public static let invalidTextRepresentation: SQLState = "22P02"
    public static let invalidDatetimeFormat: SQLState = "22007"
    public static let datetimeFieldOverflow: SQLState = "22008"
    public static let numericValueOutOfRange: SQLState = "22003"
    public static let divisionByZero: SQLState = "22012"
    public static let stringDataRightTruncation: SQLState = "22001"
    public static let badCopyFileFormat: SQLState = "22P04"
    public static let invalidParameterValue: SQLState = "22023"
    // Class 23: integrity constraint violation.
    public static let integrityConstraintViolation: SQLState = "23000"
    public static let notNullViolation: SQLState = "23502"
    public static let foreignKeyViolation: SQLState = "23503"
    public static let uniqueViolation: SQLState = "23505"
    public static let checkViolation: SQLState = "23514"
    public static let exclusionViolation: SQLState = "23P01"
    // Class 0A: feature not supported; also "cached plan must not change result type".
    public static let featureNotSupported: SQLState = "0A000"
    // Class 25 and 26: transaction state and statement names.
    public static let activeSQLTransaction: SQLState = "25001"
    public static let inFailedSQLTransaction: SQLState = "25P02"
    public static let invalidSQLStatementName: SQLState = "26000"
    // Class 40: transaction rollback, the ones worth retrying.
    public static let serializationFailure: SQLState = "40001"
    public static let deadlockDetected: SQLState = "40P01"
    // Class 42: syntax error or access rule violation.
    public static let syntaxError: SQLState = "42601"
    public static let insufficientPrivilege: SQLState = "42501"
    public static let undefinedColumn: SQLState = "42703"
    public static let undefinedFunction: SQLState = "42883"
    public static let undefinedTable: SQLState = "42P01"
    public static let duplicateTable: SQLState = "42P07"
    public static let duplicatePreparedStatement: SQLState = "42P05"
    public static let duplicateObject: SQLState = "42710"
    public static let datatypeMismatch: SQLState = "42804"
    // Class 55 and 57: object state and operator intervention.
    public static let lockNotAvailable: SQLState = "55P03"
    public static let objectInUse: SQLState = "55006"
    public static let queryCanceled: SQLState = "57014"
    public static let adminShutdown: SQLState = "57P01"
    public static let cannotConnectNow: SQLState = "57P03"
    // Class 53: insufficient resources.
    public static let tooManyConnections: SQLState = "53300"
    public static let diskFull: SQLState = "53100"
    // Class 3D, 28: catalog name and authorization.
    public static let invalidCatalogName: SQLState = "3D000"
    public static let invalidPassword: SQLState = "28P01"
    public static let invalidAuthorizationSpecification: SQLState = "28000"
    // Class XX: internal error.
    public static let internalError: SQLState = "XX000"
}
