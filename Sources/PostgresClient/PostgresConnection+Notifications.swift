import CLibPQ
import Foundation

/// A `NOTIFY` the session received.
public struct PostgresNotification: Sendable, Equatable {
    public var channel: String
    public var payload: String
    /// The server process that sent it.
    public var senderPID: Int32
}

extension PostgresConnection {
    /// `LISTEN` on `channel`. The name is an identifier, so it must be a plain lowercase one
    /// (never input): anything else is refused rather than quoted.
    public func listen(_ channel: String) async throws {
        guard channel.range(of: "^[a-z_][a-z0-9_]{0,62}$", options: .regularExpression) != nil else {
            throw PostgresError(
                kind: .client, sqlState: "42602",
                message:
                    "LISTEN: \(channel) is not a plain lowercase identifier; fix: name the channel with a-z, 0-9 and _")
        }
        try await executeScript("listen \(channel)")
    }

    /// The notifications received so far, else those that arrive within `timeout` (empty if
    /// none did). Waits on the session's socket on the connection's thread, in slices of at
    /// most 100 ms so a cancelled task returns soon.
    public func notifications(waitingUpTo timeout: Duration) async throws -> [PostgresNotification] {
        try await cancellable {
            let handle = try liveHandle()
            let deadline = ContinuousClock.now + timeout
            while true {
                guard PQconsumeInput(handle) == 1 else {
                    throw PostgresError(
                        kind: .connectionFailed, sqlState: .connectionException,
                        message: "the connection to \(target) broke while waiting for notifications; fix: reconnect")
                }
                var received: [PostgresNotification] = []
                while let notify = PQnotifies(handle) {
                    received.append(
                        PostgresNotification(
                            channel: String(cString: notify.pointee.relname),
                            payload: String(cString: notify.pointee.extra), senderPID: notify.pointee.be_pid))
                    PQfreemem(notify)
                }
                let left = deadline - ContinuousClock.now
                if !received.isEmpty || left <= .zero || Task.isCancelled { return received }
                let slice = min(left, .milliseconds(100))
                let milliseconds = Int32(
                    max(1, slice.components.seconds * 1000 + slice.components.attoseconds / 1_000_000_000_000_000))
                var descriptor = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
                _ = poll(&descriptor, 1, milliseconds)
            }
        }
    }
}
