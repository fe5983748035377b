import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// Picks loopback addresses (127.x.y.z: all of 127/8 reaches lo on Linux) and ports nobody uses.
public enum Loopback {
    /// `count` addresses sharing a random 127.x.y prefix, all free on `port`.
    public static func freeAddresses(count: Int, port: Int) throws -> [String] {
        for _ in 0..<50 {
            let second = Int.random(in: 100...250), third = Int.random(in: 1...250)
            var addresses: [String] = []
            var host = 10
            while addresses.count < count && host < 250 {
                let address = "127.\(second).\(third + host / 250).\(host % 250)"
                if isFree(address: address, port: port) { addresses.append(address) }
                host += 1
            }
            if addresses.count == count { return addresses }
        }
        throw SimulatorError.noFreeAddress(port: port)
    }

    /// A TCP port in `range` nothing listens on at `address` (a dynamic port, as a named SQL Server
    /// instance takes when it starts).
    public static func freePort(address: String, in range: ClosedRange<Int>) throws -> Int {
        for _ in 0..<200 {
            let port = Int.random(in: range)
            if isFree(address: address, port: port) { return port }
        }
        throw SimulatorError.noFreeAddress(port: range.lowerBound)
    }

    /// True when nothing listens on address:port (a bind succeeds).
    public static func isFree(address: String, port: Int) -> Bool {
        guard let fd = boundSocket(SOCK_STREAM, address: address, port: port) else { return false }
        close(fd)
        return true
    }

    /// A non-blocking, close-on-exec socket of `type` bound to address:port (SO_REUSEADDR), or nil.
    static func boundSocket(_ type: __socket_type, address: String, port: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(type.rawValue), 0)
        guard fd >= 0 else { return nil }
        var on: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        guard withSocketAddress(address, port: port, { bind(fd, $0, $1) }) == 0 else {
            close(fd)
            return nil
        }
        return fd
    }

    /// `call` (bind, connect) with address:port as an IPv4 socket address; nil when `address` is
    /// not a dotted IPv4 address.
    static func withSocketAddress(_ address: String, port: Int, _ call: (UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32? {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, address, &addr.sin_addr) == 1 else { return nil }
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { call($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }

    /// True when a TCP connection to address:port is accepted within `timeout` seconds.
    public static func answers(address: String, port: Int, timeout: TimeInterval = 0.5) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        guard let rc = withSocketAddress(address, port: port, { connect(fd, $0, $1) }) else { return false }
        if rc == 0 { return true }
        guard errno == EINPROGRESS else { return false }
        var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        guard poll(&pfd, 1, Int32(timeout * 1000)) == 1 else { return false }
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        return error == 0
    }
}
