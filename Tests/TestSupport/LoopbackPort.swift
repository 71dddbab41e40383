import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Loopback ports for tests: one bound and held (it refuses connections for as long
/// as the socket lives), or one that was free a moment ago.
public enum LoopbackPort {
    /// A socket bound to a free loopback port, not listening; close it when done.
    public static func bound() throws -> (socket: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else {
            close(fd)
            throw POSIXError(.EADDRNOTAVAIL)
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    /// A free port below the kernel's ephemeral range (32768 and up on Linux), for a server
    /// a test starts as another process and may restart on the same port: a port the kernel
    /// handed out can be taken by the source port of any outgoing connection meanwhile, and
    /// the parallel suites open hundreds.
    public static func freeForServer() throws -> Int {
        for _ in 0..<200 {
            let port = Int.random(in: 20000..<32000)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
            close(fd)
            if bound { return port }
        }
        return try free()
    }

    /// A port that was free when asked (another process may take it before it is used).
    public static func free() throws -> Int {
        let (socket, port) = try bound()
        close(socket)
        return port
    }
}
