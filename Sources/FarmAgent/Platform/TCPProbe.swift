import FarmProtocol
import Foundation
#if os(Windows)
    import WinSDK
#elseif canImport(Glibc)
    import Glibc
#endif

/// Opens one TCP connection with a deadline and closes it: "does host:port answer from here?"
public enum TCPProbe {
    public enum Outcome: Sendable, Equatable {
        case answered(milliseconds: Double)
        case failed(String)
    }

    public static func connect(host: String, port: Int, timeout: Double) -> Outcome {
        let started = Date()
        let result = attempt(host: host, port: port, timeoutMilliseconds: Saturating.milliseconds32(timeout, minimum: 1))
        if let error = result { return .failed(error) }
        return .answered(milliseconds: Date().timeIntervalSince(started) * 1000)
    }

    #if os(Windows)
        private static let startup: Bool = {
            var data = WSADATA()
            return WSAStartup(0x0202, &data) == 0
        }()

        /// nil when connected; otherwise why not.
        private static func attempt(host: String, port: Int, timeoutMilliseconds: Int32) -> String? {
            guard startup else { return "Winsock did not start" }
            var hints = ADDRINFOA()
            hints.ai_socktype = SOCK_STREAM
            hints.ai_family = AF_UNSPEC
            var list: UnsafeMutablePointer<ADDRINFOA>?
            guard getaddrinfo(host, String(port), &hints, &list) == 0, let info = list else { return "cannot resolve \(host)" }
            defer { freeaddrinfo(list) }
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            guard fd != INVALID_SOCKET else { return "cannot create a socket" }
            defer { closesocket(fd) }
            var nonBlocking: u_long = 1
            ioctlsocket(fd, FIONBIO, &nonBlocking)
            if WinSDK.connect(fd, info.pointee.ai_addr, Int32(info.pointee.ai_addrlen)) == 0 { return nil }
            guard WSAGetLastError() == WSAEWOULDBLOCK else { return "connection refused" }
            var descriptor = WSAPOLLFD(fd: fd, events: Int16(POLLWRNORM), revents: 0)
            let ready = WSAPoll(&descriptor, 1, timeoutMilliseconds)
            if ready == 0 { return "no answer within \(timeoutMilliseconds) ms" }
            var error: Int32 = 0
            var length = Int32(MemoryLayout<Int32>.size)
            _ = withUnsafeMutablePointer(to: &error) {
                $0.withMemoryRebound(to: CChar.self, capacity: 4) { getsockopt(fd, SOL_SOCKET, SO_ERROR, $0, &length) }
            }
            return error == 0 ? nil : "connection refused (error \(error))"
        }
    #else
        /// nil when connected; otherwise why not.
        private static func attempt(host: String, port: Int, timeoutMilliseconds: Int32) -> String? {
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            hints.ai_family = AF_UNSPEC
            var list: UnsafeMutablePointer<addrinfo>?
            let status = getaddrinfo(host, String(port), &hints, &list)
            guard status == 0, let info = list else { return "cannot resolve \(host): \(String(cString: gai_strerror(status)))" }
            defer { freeaddrinfo(list) }
            let fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { return "cannot create a socket: \(String(cString: strerror(errno)))" }
            defer { close(fd) }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            if Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 { return nil }
            guard errno == EINPROGRESS else { return String(cString: strerror(errno)).lowercased() }
            var descriptor = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            if poll(&descriptor, 1, timeoutMilliseconds) <= 0 { return "no answer within \(timeoutMilliseconds) ms" }
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
            return error == 0 ? nil : String(cString: strerror(error)).lowercased()
        }
    #endif
}

/// Whether another process holds a file open exclusively (Windows) or locked (the simulator's
/// stand-in on Linux): the Configuration Tool cannot run while machine.config is locked.
public enum FileLockProbe {
    public static func isLocked(_ localPath: String) -> Bool {
        #if os(Windows)
            let handle = localPath.withCString(encodedAs: UTF16.self) {
                CreateFileW($0, DWORD(GENERIC_READ | GENERIC_WRITE), 0, nil, DWORD(OPEN_EXISTING), DWORD(FILE_ATTRIBUTE_NORMAL), nil)
            }
            if handle == INVALID_HANDLE_VALUE { return GetLastError() == DWORD(ERROR_SHARING_VIOLATION) }
            CloseHandle(handle)
            return false
        #else
            let fd = open(localPath, O_RDONLY)
            guard fd >= 0 else { return false }
            defer { close(fd) }
            if flock(fd, LOCK_EX | LOCK_NB) != 0 { return errno == EWOULDBLOCK }
            flock(fd, LOCK_UN)
            return false
        #endif
    }
}
