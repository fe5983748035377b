import Foundation
#if os(Windows)
    import WinSDK
#elseif canImport(Glibc)
    import Glibc
#endif

/// Why a socket operation failed.
enum NetworkSocketError: Error, Equatable, CustomStringConvertible {
    case unresolvable(String)
    case refused(String)
    case timedOut
    case failed(String)

    var description: String {
        switch self {
        case let .unresolvable(reason): return reason
        case let .refused(reason): return reason
        case .timedOut: return "no answer before the deadline"
        case let .failed(reason): return reason
        }
    }
}

/// One connected socket, TCP or UDP, where every wait has a deadline. Foundation has no socket
/// type that builds for a static Linux agent and for Windows alike, so this is the thin layer over
/// Winsock and BSD sockets (what TCPProbe does for a bare connect).
final class NetworkSocket {
    enum Transport { case tcp, udp }

    #if os(Windows)
        private let handle: SOCKET
        private init(handle: SOCKET) { self.handle = handle }
        deinit { closesocket(handle) }

        private static let startup: Bool = {
            var data = WSADATA()
            return WSAStartup(0x0202, &data) == 0
        }()

        static func connect(host: String, port: Int, transport: Transport, deadline: Date) throws(NetworkSocketError) -> NetworkSocket {
            guard startup else { throw .failed("Winsock did not start") }
            var hints = ADDRINFOA()
            hints.ai_family = AF_INET
            hints.ai_socktype = transport == .tcp ? SOCK_STREAM : SOCK_DGRAM
            var list: UnsafeMutablePointer<ADDRINFOA>?
            guard getaddrinfo(host, String(port), &hints, &list) == 0, let info = list else { throw .unresolvable("cannot resolve \(host)") }
            defer { freeaddrinfo(list) }
            let handle = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            guard handle != INVALID_SOCKET else { throw .failed("cannot create a socket (error \(WSAGetLastError()))") }
            let connection = NetworkSocket(handle: handle)
            var nonBlocking: u_long = 1
            ioctlsocket(handle, FIONBIO, &nonBlocking)
            if WinSDK.connect(handle, info.pointee.ai_addr, Int32(info.pointee.ai_addrlen)) == 0 { return connection }
            guard WSAGetLastError() == WSAEWOULDBLOCK else { throw .refused("connection refused (error \(WSAGetLastError()))") }
            try connection.wait(events: Int16(POLLWRNORM), deadline: deadline)
            var error: Int32 = 0
            var length = Int32(MemoryLayout<Int32>.size)
            _ = withUnsafeMutablePointer(to: &error) {
                $0.withMemoryRebound(to: CChar.self, capacity: 4) { getsockopt(handle, SOL_SOCKET, SO_ERROR, $0, &length) }
            }
            guard error == 0 else { throw .refused("connection refused (error \(error))") }
            return connection
        }

        private func wait(events: Int16, deadline: Date) throws(NetworkSocketError) {
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { throw .timedOut }
            var descriptor = WSAPOLLFD(fd: handle, events: events, revents: 0)
            let ready = WSAPoll(&descriptor, 1, Int32(min(left * 1000, 3_600_000)))
            if ready == 0 { throw .timedOut }
            guard ready > 0 else { throw .failed("waiting on the socket failed (error \(WSAGetLastError()))") }
        }

        func send(_ bytes: [UInt8], deadline: Date) throws(NetworkSocketError) {
            var offset = 0
            while offset < bytes.count {
                let sent = bytes[offset...].withUnsafeBufferPointer { buffer -> Int32 in
                    guard let base = buffer.baseAddress else { return 0 }
                    return base.withMemoryRebound(to: CChar.self, capacity: buffer.count) { WinSDK.send(handle, $0, Int32(buffer.count), 0) }
                }
                if sent > 0 { offset += Int(sent); continue }
                guard WSAGetLastError() == WSAEWOULDBLOCK else { throw .failed("sending failed (error \(WSAGetLastError()))") }
                try wait(events: Int16(POLLWRNORM), deadline: deadline)
            }
        }

        /// Up to `limit` bytes; empty when the peer closed the connection.
        func receive(limit: Int, deadline: Date) throws(NetworkSocketError) -> [UInt8] {
            var buffer = [UInt8](repeating: 0, count: limit)
            while true {
                let count = buffer.withUnsafeMutableBufferPointer { pointer -> Int32 in
                    guard let base = pointer.baseAddress else { return 0 }
                    return base.withMemoryRebound(to: CChar.self, capacity: limit) { WinSDK.recv(handle, $0, Int32(limit), 0) }
                }
                if count >= 0 { return Array(buffer.prefix(Int(count))) }
                let error = WSAGetLastError()
                if error == WSAECONNRESET || error == WSAECONNREFUSED { throw .refused("the peer refused (error \(error))") }
                guard error == WSAEWOULDBLOCK else { throw .failed("receiving failed (error \(error))") }
                try wait(events: Int16(POLLRDNORM), deadline: deadline)
            }
        }
    #else
        private let descriptor: Int32
        private init(descriptor: Int32) { self.descriptor = descriptor }
        deinit { close(descriptor) }

        static func connect(host: String, port: Int, transport: Transport, deadline: Date) throws(NetworkSocketError) -> NetworkSocket {
            var hints = addrinfo()
            hints.ai_family = AF_INET
            hints.ai_socktype = Int32(transport == .tcp ? SOCK_STREAM.rawValue : SOCK_DGRAM.rawValue)
            var list: UnsafeMutablePointer<addrinfo>?
            let status = getaddrinfo(host, String(port), &hints, &list)
            guard status == 0, let info = list else { throw .unresolvable("cannot resolve \(host): \(String(cString: gai_strerror(status)))") }
            defer { freeaddrinfo(list) }
            let descriptor = socket(info.pointee.ai_family, info.pointee.ai_socktype, 0)
            guard descriptor >= 0 else { throw .failed("cannot create a socket: \(String(cString: strerror(errno)))") }
            let connection = NetworkSocket(descriptor: descriptor)
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
            if Glibc.connect(descriptor, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 { return connection }
            guard errno == EINPROGRESS else { throw .refused(String(cString: strerror(errno)).lowercased()) }
            try connection.wait(events: Int16(POLLOUT), deadline: deadline)
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &error, &length)
            guard error == 0 else { throw .refused(String(cString: strerror(error)).lowercased()) }
            return connection
        }

        private func wait(events: Int16, deadline: Date) throws(NetworkSocketError) {
            while true {
                let left = deadline.timeIntervalSinceNow
                guard left > 0 else { throw .timedOut }
                var entry = pollfd(fd: descriptor, events: events, revents: 0)
                let ready = poll(&entry, 1, Int32(min(left * 1000, 3_600_000)))
                if ready > 0 { return }
                if ready == 0 { throw .timedOut }
                guard errno == EINTR else { throw .failed("waiting on the socket failed: \(String(cString: strerror(errno)))") }
            }
        }

        func send(_ bytes: [UInt8], deadline: Date) throws(NetworkSocketError) {
            var offset = 0
            while offset < bytes.count {
                let sent = bytes[offset...].withUnsafeBufferPointer { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if sent > 0 { offset += sent; continue }
                if errno == ECONNREFUSED { throw .refused("connection refused") }
                guard errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR else {
                    throw .failed("sending failed: \(String(cString: strerror(errno)))")
                }
                try wait(events: Int16(POLLOUT), deadline: deadline)
            }
        }

        /// Up to `limit` bytes; empty when the peer closed the connection.
        func receive(limit: Int, deadline: Date) throws(NetworkSocketError) -> [UInt8] {
            var buffer = [UInt8](repeating: 0, count: limit)
            while true {
                let count = buffer.withUnsafeMutableBufferPointer { Glibc.recv(descriptor, $0.baseAddress, limit, 0) }
                if count >= 0 { return Array(buffer.prefix(count)) }
                // A UDP peer without a listener answers with ICMP port unreachable: ECONNREFUSED here.
                if errno == ECONNREFUSED || errno == ECONNRESET { throw .refused(String(cString: strerror(errno)).lowercased()) }
                guard errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR else {
                    throw .failed("receiving failed: \(String(cString: strerror(errno)))")
                }
                try wait(events: Int16(POLLIN), deadline: deadline)
            }
        }
    #endif
}
