import CLibPQ
import Foundation

/// Sends libpq cancel requests for the statement a connection is running, from any thread.
///
/// A task cancelled while its statement runs on the connection's thread cannot interrupt that
/// thread; it asks the server instead (PQcancel on a PGcancel object, which libpq documents as
/// thread-safe). The server then fails the statement with SQLSTATE 57014 (`.queryCanceled`).
final class QueryCanceller: @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var handle: OpaquePointer?
    private var running = false

    init(connection: OpaquePointer) {
        handle = PQgetCancel(connection)
    }

    deinit {
        if let handle { PQfreeCancel(handle) }
    }

    func begin() { lock.withLock { running = true } }

    /// Holds the lock until `cancel()` has finished, so a late request cannot reach the next statement.
    func end() { lock.withLock { running = false } }

    func cancel() {
        lock.withLock {
            guard running, let handle else { return }
            var message = [CChar](repeating: 0, count: 256)
            // A failed request only means the statement runs on; there is nobody to tell.
            _ = PQcancel(handle, &message, Int32(message.count))
        }
    }
}
