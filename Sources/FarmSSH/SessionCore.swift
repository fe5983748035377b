import CLibSSH2
import Logging
import FarmProtocol
import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// One libssh2 session in non-blocking mode and its socket. Used only on its `SessionThread`.
///
/// Every libssh2 call is retried on EAGAIN while poll() waits for the directions libssh2 is blocked
/// on, and every wait has a deadline; keepalives go out while waiting.
///
/// A server that stops answering is noticed by its silence, not by the deadline of whatever waits:
/// once connected, every wait sends an SSH keepalive (want-reply) each `keepaliveInterval`
/// seconds, the session's receive callback counts every byte that comes back, and when
/// `keepaliveCountMax` keepalives in a row have each had a full interval and nothing at all came
/// back, the connection is declared lost (`SSHError.connectionLost`), as OpenSSH's
/// ServerAliveInterval/ServerAliveCountMax do.
final class SessionCore: @unchecked Sendable {
    let endpoint: SSHEndpoint
    let options: SSHOptions
    let thread: SessionThread
    private(set) var socket: Int32 = -1
    private(set) var session: OpaquePointer?
    private var keepaliveDue = Deadline.distantFuture
    private(set) var hostKey: HostKey?
    private(set) var negotiatedAlgorithms = ""
    /// Bytes received, counted by libssh2's receive callback; owned here, outlives the session.
    private let traffic: UnsafeMutablePointer<osfarm_traffic>
    private var trafficSeen: UInt64 = 0
    private var unansweredKeepalives = 0
    /// Set once the server is declared lost; every later wait throws it.
    private(set) var lost: SSHError?

    /// Each phase and its time, at debug level (a run's debug.log keeps them).
    let logger: Logger

    init(endpoint: SSHEndpoint, options: SSHOptions, thread: SessionThread) {
        self.endpoint = endpoint
        self.options = options
        self.thread = thread
        var logger = Logger(label: "osfarm.ssh")
        logger[metadataKey: "server"] = "\(endpoint.host):\(endpoint.port)"
        self.logger = logger
        traffic = .allocate(capacity: 1)
        traffic.initialize(to: osfarm_traffic(received: 0))
    }

    deinit {
        traffic.deallocate()
    }

    // MARK: Connecting

    func establish() throws {
        try LibSSH2.ensureInitialised()
        let timeouts = options.timeouts
        var phase = PhaseClock(logger: logger)
        try connectSocket(deadline: .after(seconds: timeouts.connect))
        phase.done("TCP connect to \(name)")
        let knownHosts = try loadKnownHosts()
        guard let session = osfarm_session_init_counting(traffic) else { throw SSHError.handshakeFailed("cannot create a libssh2 session") }
        self.session = session
        libssh2_session_set_blocking(session, 0)
        // Ask for a host key type known_hosts has for this server, so a server with several keys
        // presents the one we can check.
        let known = knownHosts.knownKeyTypes(host: endpoint.host, port: endpoint.port).filter(LibSSH2.supportedHostKeyTypes.contains)
        let preference = known + LibSSH2.supportedHostKeyTypes.filter { !known.contains($0) }
        _ = libssh2_session_method_pref(session, LIBSSH2_METHOD_HOSTKEY, preference.joined(separator: ","))

        try handshake(session, seconds: timeouts.handshake)
        phase.done("SSH handshake")
        let key = try presentedHostKey()
        hostKey = key
        try verify(key, against: knownHosts)
        negotiatedAlgorithms = describeAlgorithms()
        phase.done("host key \(key.type) \(key.fingerprint) verified against \(options.knownHostsPath); \(negotiatedAlgorithms)")
        try authenticate(deadline: .after(seconds: timeouts.authentication))
        phase.done("authenticated as \(endpoint.user)")
        let keepalive = options.timeouts.keepalive
        libssh2_keepalive_config(session, 1, UInt32(keepalive.interval))
        keepaliveDue = .after(seconds: Double(keepalive.interval))
    }

    private var name: String { SSHError.name(endpoint.host, endpoint.port) }

    /// Connects and completes the key exchange only: the key the server presents, unverified.
    func scanHostKey() throws -> HostKey {
        try LibSSH2.ensureInitialised()
        let timeouts = options.timeouts
        try connectSocket(deadline: .after(seconds: timeouts.connect))
        guard let session = osfarm_session_init() else { throw SSHError.handshakeFailed("cannot create a libssh2 session") }
        self.session = session
        libssh2_session_set_blocking(session, 0)
        try handshake(session, seconds: timeouts.handshake)
        return try presentedHostKey()
    }

    private func connectSocket(deadline: Deadline) throws {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(endpoint.host, String(endpoint.port), &hints, &list)
        guard status == 0, let first = list else {
            throw SSHError.resolveFailed(host: endpoint.host, reason: String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(list) }
        var lastError = "no address"
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let info = candidate {
            candidate = info.pointee.ai_next
            let fd = Glibc.socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { lastError = String(cString: strerror(errno)); continue }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            var on: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, socklen_t(MemoryLayout<Int32>.size))
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
            if Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 {
                socket = fd
                return
            }
            guard errno == EINPROGRESS else {
                lastError = String(cString: strerror(errno))
                Glibc.close(fd)
                continue
            }
            do {
                try waitFor(fd: fd, events: Int16(POLLOUT), deadline: deadline, phase: "TCP connect to \(name)", seconds: options.timeouts.connect)
            } catch {
                Glibc.close(fd)
                throw error
            }
            var soError: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length)
            if soError == 0 {
                socket = fd
                return
            }
            lastError = String(cString: strerror(soError))
            Glibc.close(fd)
        }
        throw SSHError.connectFailed(host: endpoint.host, port: endpoint.port, reason: lastError)
    }

    private func loadKnownHosts() throws -> KnownHosts {
        do {
            return try KnownHosts.loadShared(path: options.knownHostsPath)
        } catch {
            throw SSHError.knownHosts(error)
        }
    }

    /// The key exchange, to its end or its deadline. A server that drops the connection during it
    /// is lost (unreachable), and a failed exchange says libssh2's reason: neither is reported
    /// as the host key it never got to present.
    private func handshake(_ session: OpaquePointer, seconds: Double) throws {
        let rc = try retry("SSH handshake with \(name)", seconds, .after(seconds: seconds)) { libssh2_session_handshake(session, self.socket) }
        guard rc != 0 else { return }
        let error = failure("SSH handshake with \(name)")
        if case .connectionLost = error { throw error }
        throw SSHError.handshakeFailed(lastError())
    }

    private func presentedHostKey() throws -> HostKey {
        var length = 0
        var type: Int32 = 0
        guard let raw = libssh2_session_hostkey(session, &length, &type), length > 0 else {
            throw SSHError.handshakeFailed("the server presented no host key")
        }
        let blob = raw.withMemoryRebound(to: UInt8.self, capacity: length) { Array(UnsafeBufferPointer(start: $0, count: length)) }
        guard let key = HostKey(blob: blob) else { throw SSHError.handshakeFailed("the server's host key cannot be parsed") }
        return key
    }

    private func verify(_ key: HostKey, against knownHosts: KnownHosts) throws {
        let file = options.knownHostsPath
        let verdict: KnownHosts.Verdict
        do {
            verdict = try knownHosts.verdict(for: key, host: endpoint.host, port: endpoint.port)
        } catch {
            throw SSHError.knownHosts(error)
        }
        switch verdict {
        case .match:
            return
        case let .revoked(line):
            throw SSHError.hostKeyRevoked(
                host: endpoint.host, port: endpoint.port, keyType: key.type, fingerprint: key.fingerprint, knownHosts: file, line: line)
        case let .changed(lines):
            throw SSHError.hostKeyChanged(
                host: endpoint.host, port: endpoint.port, keyType: key.type, fingerprint: key.fingerprint, knownHosts: file, lines: lines)
        case .unknown:
            guard options.hostKeyPolicy == .acceptNew else {
                throw SSHError.hostKeyUnknown(host: endpoint.host, port: endpoint.port, keyType: key.type, fingerprint: key.fingerprint, knownHosts: file)
            }
            do {
                try KnownHosts.append(key, host: endpoint.host, port: endpoint.port, to: file)
            } catch {
                throw SSHError.knownHosts(error)
            }
        }
    }

    private func authenticate(deadline: Deadline) throws {
        let user = endpoint.user
        let seconds = options.timeouts.authentication
        switch options.authentication {
        case let .keyFile(path, passphrase):
            // An unencrypted Ed25519 key is read once per process and signs in Swift; any other
            // goes through libssh2's file path (which reads the file for every connection).
            let signer = Ed25519ClientKey.shared(path: path)
            let keyFile = try signer.map { _ in ClientKeyFile(path: path, keyType: "ssh-ed25519", isEncrypted: false) } ?? ClientKeyFile.inspect(path: path)
            if keyFile.isEncrypted && passphrase == nil {
                throw SSHError.keyFile(
                    path: path,
                    reason: "is protected by a passphrase and none was given (set the passphrase environment variable or run on a terminal to be asked)")
            }
            let rc = try retry("authentication as \(user)", seconds, deadline) {
                if let signer, let session = self.session { return signer.authenticate(session, user: user) }
                return libssh2_userauth_publickey_fromfile_ex(self.session, user, UInt32(user.utf8.count), nil, path, passphrase?.reveal())
            }
            guard rc != 0 else { return }
            switch rc {
            case LIBSSH2_ERROR_FILE:
                throw SSHError.keyFile(
                    path: path,
                    reason: keyFile.isEncrypted ? "wrong passphrase, or a key format libssh2 cannot read" : "libssh2 cannot read this key (\(lastError()))")
            case LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED, LIBSSH2_ERROR_AUTHENTICATION_FAILED:
                if keyFile.isRSA { throw SSHError.rsaKeyRefused(user: user, keyPath: path) }
                throw SSHError.authenticationFailed(user: user, detail: "the server did not accept the key \(path)")
            default:
                throw SSHError.authenticationFailed(user: user, detail: lastError())
            }
        case .agent:
            try authenticateWithAgent(user: user, deadline: deadline, seconds: seconds)
        }
    }

    private func authenticateWithAgent(user: String, deadline: Deadline, seconds: Double) throws {
        guard let agent = libssh2_agent_init(session) else { throw SSHError.authenticationFailed(user: user, detail: "cannot use ssh-agent") }
        defer {
            libssh2_agent_disconnect(agent)
            libssh2_agent_free(agent)
        }
        guard libssh2_agent_connect(agent) == 0 else {
            throw SSHError.authenticationFailed(user: user, detail: "cannot reach ssh-agent (is SSH_AUTH_SOCK set?)")
        }
        guard libssh2_agent_list_identities(agent) == 0 else {
            throw SSHError.authenticationFailed(user: user, detail: "ssh-agent did not list its keys")
        }
        var previous: UnsafeMutablePointer<libssh2_agent_publickey>?
        var tried = 0
        while true {
            var identity: UnsafeMutablePointer<libssh2_agent_publickey>?
            guard libssh2_agent_get_identity(agent, &identity, previous) == 0, let current = identity else { break }
            previous = current
            tried += 1
            let rc = try retry("authentication as \(user) with ssh-agent", seconds, deadline) {
                libssh2_agent_userauth(agent, user, current)
            }
            if rc == 0 { return }
        }
        throw SSHError.authenticationFailed(
            user: user, detail: tried == 0 ? "ssh-agent holds no keys" : "the server accepted none of ssh-agent's \(tried) key(s)")
    }

    private func describeAlgorithms() -> String {
        func method(_ type: Int32) -> String { libssh2_session_methods(session, type).map { String(cString: $0) } ?? "?" }
        return
            "kex=\(method(LIBSSH2_METHOD_KEX)) hostkey=\(method(LIBSSH2_METHOD_HOSTKEY)) cipher=\(method(LIBSSH2_METHOD_CRYPT_CS)) mac=\(method(LIBSSH2_METHOD_MAC_CS))"
    }

    // MARK: Waiting

    /// Calls `body` until it stops returning EAGAIN, waiting on the socket in between.
    /// Returns the final return code (0 or a libssh2 error).
    @discardableResult
    func retry(_ phase: @autoclosure () -> String, _ seconds: Double, _ deadline: Deadline, _ body: () -> Int32) throws -> Int32 {
        while true {
            let rc = body()
            guard rc == LIBSSH2_ERROR_EAGAIN else { return rc }
            try waitForSession(deadline: deadline, phase: phase(), seconds: seconds)
        }
    }

    /// Waits until the socket is ready in the directions libssh2 is blocked on (readable when it
    /// says nothing), the wake pipe fires, or the deadline passes. Sends keepalives on the way.
    func waitForSession(deadline: Deadline, phase: @autoclosure () -> String, seconds: Double) throws {
        var events: Int16 = 0
        if let session {
            let directions = libssh2_session_block_directions(session)
            if directions & LIBSSH2_SESSION_BLOCK_INBOUND != 0 { events |= Int16(POLLIN) }
            if directions & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0 { events |= Int16(POLLOUT) }
        }
        if events == 0 { events = Int16(POLLIN) }
        try waitFor(fd: socket, events: events, deadline: deadline, phase: phase(), seconds: seconds)
    }

    private func waitFor(fd: Int32, events: Int16, deadline: Deadline, phase: @autoclosure () -> String, seconds: Double) throws {
        if thread.isCancelled { throw SSHError.cancelled }
        try keepAlive()
        guard !deadline.hasPassed else { throw SSHError.timedOut(phase: phase(), seconds: seconds) }
        let timeout = min(deadline.remainingMilliseconds, keepaliveDue.remainingMilliseconds.clamped(min: 1))
        var fds = [pollfd(fd: fd, events: events, revents: 0), pollfd(fd: thread.wake.readEnd, events: Int16(POLLIN), revents: 0)]
        let ready = poll(&fds, 2, timeout)
        if ready < 0 && errno != EINTR { throw SSHError.disconnected("poll failed: \(String(cString: strerror(errno)))") }
        if fds[1].revents != 0 { thread.wake.drain() }
        if thread.isCancelled { throw SSHError.cancelled }
    }

    /// Waits up to `milliseconds` for socket input or a wake-up, for the idle loop; never throws
    /// (a server found lost here is kept in `lost` for the next call).
    func idleWait(milliseconds: Int32) {
        try? keepAlive()
        var fds = [pollfd(fd: socket, events: Int16(POLLIN), revents: 0), pollfd(fd: thread.wake.readEnd, events: Int16(POLLIN), revents: 0)]
        _ = poll(&fds, 2, min(milliseconds, keepaliveDue.remainingMilliseconds.clamped(min: 1)))
        if fds[1].revents != 0 { thread.wake.drain() }
    }

    /// Notes whether the server said anything since the last look, sends a keepalive when one is
    /// due, and throws `connectionLost` once `keepaliveCountMax` of them went unanswered.
    private func keepAlive() throws(SSHError) {
        if let lost { throw lost }
        guard let session else { return }
        let received = traffic.pointee.received
        if received != trafficSeen {
            trafficSeen = received
            unansweredKeepalives = 0
        }
        guard keepaliveDue.hasPassed else { return }
        let keepalive = options.timeouts.keepalive
        if unansweredKeepalives >= keepalive.countMax {
            let error = SSHError.connectionLost(
                "\(SSHError.name(endpoint.host, endpoint.port)) answered none of \(unansweredKeepalives) SSH keepalive\(unansweredKeepalives == 1 ? "" : "s") sent \(keepalive.interval) s apart"
            )
            lost = error
            throw error
        }
        var next: Int32 = 0
        let rc = libssh2_keepalive_send(session, &next)
        if rc != 0 && rc != LIBSSH2_ERROR_EAGAIN {
            let error = SSHError.connectionLost("cannot send a keepalive: \(lastError())")
            lost = error
            throw error
        }
        // libssh2 sends only when its own interval has passed; it then reports the full interval.
        if next >= Int32(keepalive.interval) { unansweredKeepalives += 1 }
        keepaliveDue = .after(seconds: Double(max(1, next)))
    }

    /// An SSHError for a failed libssh2 call on the session: `connectionLost` when the socket is
    /// gone, `disconnected` otherwise.
    func failure(_ what: String) -> SSHError {
        switch lastErrno {
        case LIBSSH2_ERROR_SOCKET_SEND, LIBSSH2_ERROR_SOCKET_RECV, LIBSSH2_ERROR_SOCKET_DISCONNECT, LIBSSH2_ERROR_SOCKET_TIMEOUT,
            LIBSSH2_ERROR_BAD_SOCKET, LIBSSH2_ERROR_TIMEOUT:
            return .connectionLost("\(what): \(lastError())")
        default:
            return .disconnected("\(what): \(lastError())")
        }
    }

    func lastError() -> String {
        guard let session else { return "no session" }
        var message: UnsafeMutablePointer<CChar>?
        var length: Int32 = 0
        let code = libssh2_session_last_error(session, &message, &length, 0)
        let text = message.map { String(cString: $0) } ?? "unknown error"
        return "\(text) (libssh2 \(code))"
    }

    var lastErrno: Int32 { session.map { libssh2_session_last_errno($0) } ?? 0 }

    // MARK: Teardown

    /// Disconnects politely if the server answers within `deadline`, then drops the socket.
    /// Never waits past the deadline.
    func teardown(channel: ChannelCore?, deadline: Deadline) {
        if let session {
            if let channel { channel.close(core: self, deadline: deadline) }
            _ = try? retry("disconnect", options.timeouts.close, deadline) { osfarm_session_disconnect(session, "osfarm done") }
        }
        if socket >= 0 { shutdown(socket, Int32(SHUT_RDWR)) }
        // With the socket shut down every libssh2 send fails at once, so freeing cannot wait on the peer.
        channel?.free()
        if let session { libssh2_session_free(session) }
        session = nil
        if socket >= 0 { Glibc.close(socket) }
        socket = -1
    }
}

extension Int32 {
    fileprivate func clamped(min lower: Int32) -> Int32 { Swift.max(self, lower) }
}
