import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A loopback HTTP server that answers every request with the same bytes and counts
/// the requests: what a misconfigured base_url reaches (a login page, a proxy's
/// error page). Real sockets; one thread of its own, never the cooperative pool's.
public final class FixedAnswerServer: Sendable {
    public let port: Int
    private let socket: Int32
    private let served = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)

    /// Starts answering `status` with `contentType` and `body`.
    public init(status: String = "200 OK", contentType: String, body: String) throws {
        let (fd, port) = try LoopbackPort.bound()
        guard listen(fd, 16) == 0 else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        socket = fd
        self.port = port
        let answer = Array(
            "HTTP/1.1 \(status)\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
                .utf8)
        Thread.detachNewThread { [self] in
            while !stopping.load(ordering: .relaxed) {
                let client = accept(fd, nil, nil)
                guard client >= 0 else { break }
                // Read the request head (up to its blank line), then answer and close.
                var head: [UInt8] = []
                var byte: UInt8 = 0
                while read(client, &byte, 1) == 1 {
                    head.append(byte)
                    if head.count >= 4 && head.suffix(4) == [13, 10, 13, 10] { break }
                }
                served.add(1, ordering: .relaxed)
                _ = answer.withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
                close(client)
            }
        }
    }

    /// Requests answered so far.
    public var requests: Int { served.load(ordering: .relaxed) }

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Stops accepting (the accept call returns once the socket is shut down).
    public func stop() {
        stopping.store(true, ordering: .relaxed)
        shutdown(socket, Int32(SHUT_RDWR))
        close(socket)
    }
}
