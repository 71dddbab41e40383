extension PostgresConnection {
    /// Checks that a libpq URI or conninfo parses, without connecting, so callers
    /// can tell a malformed setting (a configuration error) from a server that is down.
    public static func validate(conninfo: String) throws {
        try ConnectionFailure.validate(conninfo)
    }
}
