import FarmProtocol
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The per-farm network process: opens, for real, the ports of every running and initialised
/// OutSystems service on its server's address, and the old and new database ports; and decides
/// when services finish initialising: the Deployment Controller once its platform database
/// answers, Deployment and Scheduler once the controller's port 12000 answers.
public final class FarmNetwork {
    static let servicePorts: [String: Int] = [
        "OutSystems Deployment Controller Service": 12000, "OutSystems Deployment Service": 12001, "OutSystems Scheduler Service": 12002,
    ]

    private let directory: String
    private var listeners: [String: Int32] = [:]

    public init(directory: String) { self.directory = directory }

    /// Runs until the farm's record disappears or the process is told to stop.
    public func run() throws -> Never {
        var missingSince: Date?
        while true {
            if let farm = try? LocalFarm.record(in: directory) {
                missingSince = nil
                tick(farm)
            } else if !FileManager.default.fileExists(atPath: directory + "/" + LocalFarm.recordName) {
                // The farm is gone (farm down removed its record): stop too.
                let since = missingSince ?? Date()
                missingSince = since
                if Date().timeIntervalSince(since) > 2 { exit(0) }
            }
            serveListeners(milliseconds: 50)
        }
    }

    func tick(_ farm: LocalFarmRecord) {
        var wanted: Set<String> = []
        for database in [farm.oldDatabase, farm.newDatabase].compactMap({ $0 }) where database.up {
            wanted.insert("\(database.address):\(database.port)")
        }
        // Databases first, so a controller waiting for its database can initialise in this tick.
        openMissing(wanted)
        for server in farm.servers {
            let store = StateStore(serverDirectory: server.directory)
            guard let state = try? store.read() else { continue }
            let ready = servicesReadyToInitialise(state, serverDirectory: server.directory)
            let updated = (try? store.update { state -> ServerState in
                for name in ready {
                    if let index = state.serviceIndex(name), state.services[index].state == .running { state.services[index].initialised = true }
                }
                return state
            }) ?? state
            for service in updated.services where service.initialised && service.state == .running {
                if let port = Self.servicePorts[service.name] { wanted.insert("\(updated.address):\(port)") }
            }
        }
        reconcile(wanted)
    }

    /// Running services whose start-up time has passed and whose dependency answers.
    private func servicesReadyToInitialise(_ state: ServerState, serverDirectory: String) -> [String] {
        let now = Date().timeIntervalSince1970
        let waiting = state.services.filter {
            $0.state == .running && !$0.initialised && now - ($0.runningSince ?? now) >= state.delay(state.profile.initialisationSeconds)
        }
        guard !waiting.isEmpty else { return [] }
        let path = ServerBuilder.localPath(ServerBuilder.installDirectory + #"\server.hsconf"#, serverDirectory: serverDirectory)
        let hsconf = (try? String(contentsOfFile: path, encoding: .utf8)).flatMap { try? SimulatedHsconf(text: $0) }
        var ready: [String] = []
        for service in waiting {
            switch service.name {
            case "OutSystems Deployment Controller Service":
                guard let server = hsconf?.server(.platform), let address = DatabaseServerAddress(server),
                    Loopback.answers(address: DatabaseProbe.resolve(address.host, serverDirectory: serverDirectory), port: address.port, timeout: 0.2)
                else { continue }
            case "OutSystems Deployment Service", "OutSystems Scheduler Service":
                guard let controller = hsconf?.value("ServiceConfiguration", "CompilerServerHostname"),
                    Loopback.answers(address: controller, port: 12000, timeout: 0.2)
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

    private func openMissing(_ wanted: Set<String>) {
        for endpoint in wanted where listeners[endpoint] == nil {
            let parts = endpoint.split(separator: ":")
            if let port = Int(parts[1]), let fd = Self.listen(address: String(parts[0]), port: port) { listeners[endpoint] = fd }
        }
    }

    /// Accepts and closes every pending connection: a connect that succeeds is all a probe needs.
    private func serveListeners(milliseconds: Int32) {
        var fds = listeners.values.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        guard !fds.isEmpty else {
            usleep(UInt32(milliseconds) * 1000)
            return
        }
        guard poll(&fds, nfds_t(fds.count), milliseconds) > 0 else { return }
        for descriptor in fds where descriptor.revents != 0 {
            while true {
                let client = accept(descriptor.fd, nil, nil)
                if client < 0 { break }
                close(client)
            }
        }
    }

    static func listen(address: String, port: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var on: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, address, &addr.sin_addr) == 1 else {
            close(fd)
            return nil
        }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, Glibc.listen(fd, 128) == 0 else {
            close(fd)
            return nil
        }
        return fd
    }
}
