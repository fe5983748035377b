import FarmProtocol
import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// The per-farm network process: opens, for real, the ports of every running and initialised
/// OutSystems service on its server's address, every database instance's port, SQL Server
/// Browser's UDP 1434 on the database hosts that run it, and each server's web server (IIS behind
/// HTTP.sys, port 80); and decides when services finish initialising: the Deployment Controller
/// once its platform database answers, Deployment and Scheduler once the controller's port 12000
/// answers.
///
/// Endpoints are keyed `tcp:ADDRESS:PORT` (accept and close: a connect is all a probe needs),
/// `http:ADDRESS:PORT` (SimulatedWebServer answers each connection on a thread of its own) and
/// `udp:ADDRESS:1434` (SimulatedSQLBrowser).
public final class FarmNetwork {
    static let servicePorts: [String: Int] = [
        "OutSystems Deployment Controller Service": 12000, "OutSystems Deployment Service": 12001, "OutSystems Scheduler Service": 12002,
    ]

    private let directory: String
    private var listeners: [String: Int32] = [:]
    private var farmRecord: (stamp: FileStamp, record: LocalFarmRecord)?
    private var watched: [String: WatchedServer] = [:]

    /// What the last look at a server found: unless its state file changed since, or a service is
    /// pending or initialising (which time alone moves on), there is no need to read it again.
    private struct WatchedServer {
        var stamp: FileStamp
        var settled: Bool
        var openPorts: Set<String>
    }

    public init(directory: String) { self.directory = directory }

    /// Runs until the farm's record disappears or the process is told to stop.
    public func run() throws -> Never {
        var missingSince: Date?
        while true {
            let tickStarted = Date()
            if let farm = currentRecord() {
                missingSince = nil
                tick(farm)
            } else if !FileManager.default.fileExists(atPath: directory + "/" + LocalFarm.recordName) {
                // The farm is gone (farm down removed its record): stop too.
                let since = missingSince ?? Date()
                missingSince = since
                if Date().timeIntervalSince(since) > 2 { exit(0) }
            }
            // Answer probes until the next tick is due (a probe must not speed the ticks up), and at
            // least once per tick: on a big farm on a loaded machine a tick can outlast its 50 ms, and
            // the listeners must not starve then (a web request went unanswered for minutes at 64
            // servers, a database's accept queue filled at 128).
            repeat {
                serveListeners(milliseconds: max(0, Int32((0.05 - Date().timeIntervalSince(tickStarted)) * 1000)))
            } while Date().timeIntervalSince(tickStarted) < 0.05
        }
    }

    /// The farm record, read again only when its file changed (it lists which databases are up).
    private func currentRecord() -> LocalFarmRecord? {
        let path = directory + "/" + LocalFarm.recordName
        guard let stamp = FileStamp(path: path) else { return nil }
        if let cached = farmRecord, cached.stamp == stamp { return cached.record }
        guard let record = try? LocalFarm.record(in: directory) else { return nil }
        farmRecord = (stamp, record)
        return record
    }

    func tick(_ farm: LocalFarmRecord) {
        var wanted: Set<String> = []
        for database in farm.allDatabases where database.up {
            wanted.insert("tcp:\(database.address):\(database.port)")
            if database.instance != nil && database.browserRuns { wanted.insert("udp:\(database.address):\(SimulatedSQLBrowser.port)") }
        }
        // HTTP.sys listens whether or not IIS runs; what it answers depends on W3SVC (SimulatedWebServer).
        for server in farm.servers { wanted.insert("http:\(server.address):\(farm.webPort)") }
        // Databases first, so a controller waiting for its database can initialise in this tick.
        openMissing(wanted)
        for server in farm.servers {
            let store = StateStore(serverDirectory: server.directory)
            // Stamped before reading: a change made while this tick reads (an sc.exe start) must
            // make the next tick read again, never be taken for what was read.
            let stamp = FileStamp(path: store.statePath)
            if let known = watched[server.name], known.settled, stamp == known.stamp {
                wanted.formUnion(known.openPorts)
                continue
            }
            guard let state = try? store.read() else { continue }
            let ready = servicesReadyToInitialise(state, serverDirectory: server.directory, farm: farm)
            let updated =
                ready.isEmpty
                ? state
                : (try? store.update { state -> ServerState in
                    for name in ready {
                        if let index = state.serviceIndex(name), state.services[index].state == .running { state.services[index].initialised = true }
                    }
                    return state
                }) ?? state
            var ports: Set<String> = []
            for service in updated.services where service.initialised && service.state == .running {
                if let port = Self.servicePorts[service.name] { ports.insert("tcp:\(updated.address):\(port)") }
            }
            // HTTP.sys listens on an HTTPS binding's port too; the TLS handshake itself is not
            // simulated (the PowerShell emulator judges the certificate and sends the request clear).
            if let binding = updated.faults.httpsBinding { ports.insert("https:\(updated.address):\(binding.port)") }
            wanted.formUnion(ports)
            let settled = !updated.services.contains { $0.pendingUntil != nil || ($0.state == .running && !$0.initialised) }
            if let stamp {
                watched[server.name] = WatchedServer(stamp: stamp, settled: settled, openPorts: ports)
            }
        }
        reconcile(wanted)
    }

    /// Running services whose start-up time has passed and whose dependency answers.
    private func servicesReadyToInitialise(_ state: ServerState, serverDirectory: String, farm: LocalFarmRecord) -> [String] {
        let now = Date().timeIntervalSince1970
        let waiting = state.services.filter {
            $0.state == .running && !$0.initialised && now - ($0.runningSince ?? now) >= state.delay(state.timing.initialisationSeconds)
        }
        guard !waiting.isEmpty else { return [] }
        let path = ServerBuilder.localPath(ServerBuilder.installDirectory + #"\server.hsconf"#, serverDirectory: serverDirectory)
        let hsconf = (try? String(contentsOfFile: path, encoding: .utf8)).flatMap { try? SimulatedHsconf(text: $0) }
        var ready: [String] = []
        for service in waiting {
            switch service.name {
            case "OutSystems Deployment Controller Service":
                // A named instance is found as a client would find it (Browser on, instance known).
                guard let location = hsconf?.databaseLocation(.platform),
                    let endpoint = farm.endpoint(of: location, resolve: { DatabaseProbe.resolve($0, serverDirectory: serverDirectory) }),
                    answers(endpoint.address, port: endpoint.port)
                else { continue }
                // It logs in as the platform's admin and runtime users; a login SQL Server refuses
                // keeps it from initialising (its port never opens), as on a real server.
                if let hsconf,
                    PlatformLogins.problem(.platform, roles: [.admin, .runtime], hsconf: hsconf, farm: farm, serverDirectory: serverDirectory) != nil
                {
                    continue
                }
            case "OutSystems Deployment Service", "OutSystems Scheduler Service":
                guard let controller = hsconf?.value("ServiceConfiguration", "CompilerServerHostname"),
                    answers(DatabaseProbe.resolve(controller, serverDirectory: serverDirectory), port: 12000)
                else { continue }
            default:
                break
            }
            ready.append(service.name)
        }
        return ready
    }

    private func reconcile(_ wanted: Set<String>) {
        for (endpoint, fd) in listeners where !wanted.contains(endpoint) {
            close(fd)
            listeners[endpoint] = nil
        }
        openMissing(wanted)
    }

    /// Whether something answers on the endpoint. The ones this process listens on answer without
    /// a connection: probing its own ports from inside a tick filled their accept queues (nothing
    /// accepts until the tick ends), and at 128 servers each later probe waited out its timeout.
    private func answers(_ address: String, port: Int) -> Bool {
        if listeners["tcp:\(address):\(port)"] != nil { return true }
        return Loopback.answers(address: address, port: port, timeout: 0.2)
    }

    private func openMissing(_ wanted: Set<String>) {
        for endpoint in wanted where listeners[endpoint] == nil {
            let parts = endpoint.split(separator: ":")
            guard parts.count == 3, let port = Int(parts[2]) else { continue }
            let fd = parts[0] == "udp" ? Self.bindUDP(address: String(parts[1]), port: port) : Self.listen(address: String(parts[1]), port: port)
            if let fd { listeners[endpoint] = fd }
        }
    }

    /// Accepts and closes every pending probe connection (a connect that succeeds is all a probe
    /// needs), hands web connections to the web server, and answers Browser datagrams.
    private func serveListeners(milliseconds: Int32) {
        let open = Array(listeners)
        var fds = open.map { pollfd(fd: $0.value, events: Int16(POLLIN), revents: 0) }
        guard !fds.isEmpty else {
            usleep(UInt32(milliseconds) * 1000)
            return
        }
        guard poll(&fds, nfds_t(fds.count), milliseconds) > 0 else { return }
        for (index, descriptor) in fds.enumerated() where descriptor.revents != 0 {
            let endpoint = open[index].key
            if endpoint.hasPrefix("udp:") {
                answerBrowser(descriptor.fd, endpoint: endpoint)
                continue
            }
            while true {
                var peer = sockaddr_in()
                var length = socklen_t(MemoryLayout<sockaddr_in>.size)
                let client = withUnsafeMutablePointer(to: &peer) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { accept(descriptor.fd, $0, &length) }
                }
                if client < 0 { break }
                let secure = endpoint.hasPrefix("https:")
                guard endpoint.hasPrefix("http:") || secure, let farm = farmRecord?.record,
                    let server = farm.servers.first(where: {
                        secure ? endpoint.hasPrefix("https:\($0.address):") : endpoint == "http:\($0.address):\(farm.webPort)"
                    })
                else {
                    close(client)
                    continue
                }
                let from = "\(Self.text(of: peer.sin_addr)):\(UInt16(bigEndian: peer.sin_port))"
                Thread { SimulatedWebServer(server: server, farm: farm, secure: secure).serve(client, from: from) }.start()
            }
        }
    }

    /// Reads every waiting datagram on a Browser socket and answers the ones Browser answers.
    private func answerBrowser(_ fd: Int32, endpoint: String) {
        guard let farm = farmRecord?.record else { return }
        let address = String(endpoint.split(separator: ":")[1])
        let instances = farm.allDatabases.filter { $0.address == address }
        let serverName = SimulatedSQLBrowser.serverName(of: instances.first?.name ?? address)
        var buffer = [UInt8](repeating: 0, count: 2048)
        while true {
            var peer = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let count = withUnsafeMutablePointer(to: &peer) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, &buffer, buffer.count, 0, $0, &length) }
            }
            if count < 0 { return }
            guard let answer = SimulatedSQLBrowser.answer(Array(buffer.prefix(count)), instances: instances, serverName: serverName) else { continue }
            _ = withUnsafePointer(to: &peer) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, answer, answer.count, 0, $0, length) }
            }
        }
    }

    static func text(of address: in_addr) -> String {
        var raw = address
        var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        _ = inet_ntop(AF_INET, &raw, &text, socklen_t(text.count))
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func bindUDP(address: String, port: Int) -> Int32? {
        Loopback.boundSocket(SOCK_DGRAM, address: address, port: port)
    }

    static func listen(address: String, port: Int) -> Int32? {
        guard let fd = Loopback.boundSocket(SOCK_STREAM, address: address, port: port) else { return nil }
        guard Glibc.listen(fd, 128) == 0 else {
            close(fd)
            return nil
        }
        return fd
    }
}

/// A file's identity and modification time: an atomic rewrite changes at least one of them.
struct FileStamp: Equatable {
    var inode: UInt64
    var seconds: Int
    var nanoseconds: Int

    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        inode = UInt64(info.st_ino)
        seconds = Int(info.st_mtim.tv_sec)
        nanoseconds = Int(info.st_mtim.tv_nsec)
    }
}
