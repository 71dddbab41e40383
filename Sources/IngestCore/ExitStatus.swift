/// The process exit codes, documented in the README; scripts and cron rely on them.
public enum ExitStatus: Int32, Sendable {
    case success = 0
    /// The run failed: database down, retries exhausted, a migration's SQL error.
    case failure = 1
    /// Bad command line or configuration; nothing was attempted.
    case usage = 2
    /// The run finished, but some records went to ops.dead_letters.
    case finishedWithDeadLetters = 3
    /// Reconciliation found drift above a threshold and did not (or could not) repair it.
    case driftBreached = 4
}

/// An error meant for the person at the terminal: one line naming the thing,
/// the reason and the fix, and the exit status it maps to.
public protocol UserFacingError: Error, CustomStringConvertible {
    var exitStatus: ExitStatus { get }
}
