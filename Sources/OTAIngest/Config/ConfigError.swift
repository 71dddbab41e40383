/// A configuration problem: a missing file, an unknown key, a missing secret.
/// Always exit status 2, and nothing is attempted.
public struct ConfigError: UserFacingError, Equatable {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var exitStatus: ExitStatus { .usage }
    public var description: String { "config: " + message }
}
