import FarmProtocol
import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// What a server's authorized_keys forces for the farm's key.
public enum ForcedCommand: Sendable, Equatable {
    /// Plain servers: the agent binary with `serve`. Simulated Windows servers: the form
    /// Install-OsfarmAgent.ps1 writes into administrators_authorized_keys for the server's shell.
    case installDefault
    /// Nothing forced: the command the client asks for runs (the inventory's `agent:`).
    case none
    /// This command: a Linux command line on plain servers, a Windows one on simulated servers.
    case command(String)
}

/// One server of a local farm as the launcher needs to describe it.
public struct LocalServerSpec: Sendable {
    public var name: String
    public var role: ServerRole
    /// The agent. Plain servers run it where it is; simulated ones have it installed at
    /// C:\Program Files\osfarm\osfarm-agent.exe in their C: tree.
    public var agentBinary: String
    /// Simulated servers: a copy of the agent rather than a link (an agent update then replaces
    /// only this server's).
    public var copyAgent = false
    public var forcedCommand: ForcedCommand = .installDefault
    /// Environment the session gets through authorized_keys `environment=`.
    public var environment: [String: String]
    /// Simulated servers: the display language of their Windows programs.
    public var language: DisplayLanguage = .english
    /// Simulated servers: the shell Win32-OpenSSH runs commands with.
    public var defaultShell: DefaultShell = .commandPrompt
    /// Simulated servers: the services to install (a replica's); nil, the default set.
    public var services: [ServerBuilder.ServiceShape]?
    /// A replica: the real inventory's entry for this server (targeting, tags, hooks, options).
    public var inventoryEntry: SnapshotInventoryServer?

    public init(name: String, role: ServerRole, agentBinary: String, environment: [String: String] = [:]) {
        self.name = name
        self.role = role
        self.agentBinary = agentBinary
        self.environment = environment
    }
}

/// What is recorded about a running local farm in `farm.json`, so another process can find it.
public struct LocalFarmRecord: Codable, Sendable {
    public struct Server: Codable, Sendable {
        public var name: String
        public var role: ServerRole
        public var address: String
        public var port: Int
        public var sshdPID: Int32
        public var directory: String
        public var hostKeyFingerprint: String
        /// Simulated servers: display language and shell (nil on plain farms).
        public var language: DisplayLanguage?
        public var defaultShell: DefaultShell?
    }

    public var directory: String
    public var user: String
    public var clientKey: String
    public var knownHosts: String
    public var inventory: String
    public var servers: [Server]
    /// The simulation's profile, databases and network process (nil for plain sshd farms).
    public var profile: SimulationProfile?
    public var oldDatabase: SimulatedDatabase?
    public var newDatabase: SimulatedDatabase?
    /// The session and logging sections' own database servers, for farms that keep them apart.
    public var sessionDatabase: SimulatedDatabase?
    public var loggingDatabase: SimulatedDatabase?
    public var networkPID: Int32?
    /// The port each simulated server's web server (IIS) listens on; nil: 80.
    public var httpPort: Int?
    /// A replica: the snapshot it was built from, and the real inventory's entries it keeps.
    public var replicaOf: String?
    public var replicaInventory: [SnapshotInventoryServer]?

    /// The port of the simulated servers' web server: 80 (ServerConfiguration/ApplicationServerPort).
    public var webPort: Int { httpPort ?? 80 }

    public func server(named name: String) throws -> Server {
        guard let server = servers.first(where: { $0.name == name }) else { throw SimulatorError.unknownServer(name) }
        return server
    }
}

/// How to turn a farm's servers into simulated Windows OutSystems servers.
public struct SimulationOptions: Sendable {
    public var profile: SimulationProfile
    /// The osfarm-sim binary: the emulated Windows programs and the network process.
    public var emulatorBinary: String
    public var clearTextPasswords: Bool
    /// The databases use Windows (integrated) authentication.
    public var windowsAuthentication: Bool
    /// The farm's layout beyond the default one (named instances, separate session and logging
    /// servers, front-end roles, Oracle, Redis sessions).
    public var layout: SimulatedLayout
    /// Measured delays replacing the profile's (a replica of a farm moved before).
    public var measuredTimings: SimulatedTimings?

    public init(
        profile: SimulationProfile = .fast, emulatorBinary: String, clearTextPasswords: Bool = false, windowsAuthentication: Bool = false,
        layout: SimulatedLayout = SimulatedLayout()
    ) {
        self.profile = profile
        self.emulatorBinary = emulatorBinary
        self.clearTextPasswords = clearTextPasswords
        self.windowsAuthentication = windowsAuthentication
        self.layout = layout
    }
}

/// A farm of local servers, each a real OpenSSH sshd on its own 127.x address with its own host key,
/// whose authorized_keys forces the agent for the farm's client key. Also writes the client key, a
/// known_hosts file vouching for every server and an inventory, so `osfarm` can be pointed at it as
/// at a real farm. Works as root and as a normal user (then every server logs in as that user).
public enum LocalFarm {
    public static let sshdPath = "/usr/sbin/sshd"
    public static let recordName = "farm.json"

    /// `sshd: false` lays the servers out and starts the network process, but no sshd and no client
    /// key: a farm for tests that call the emulated programs in-process (a server's `sshdPID` is 0).
    public static func up(
        directory: String, servers: [LocalServerSpec], port: Int = 2222,
        simulation: SimulationOptions? = nil, replicaOf snapshot: String? = nil, sshd: Bool = true
    ) throws -> LocalFarmRecord {
        let manager = FileManager.default
        let recordPath = directory + "/" + recordName
        if manager.fileExists(atPath: recordPath) { throw SimulatorError.farmExists(directory: directory) }
        guard !sshd || manager.isExecutableFile(atPath: sshdPath) else {
            throw SimulatorError.toolMissing(sshdPath, hint: "apt-get install openssh-server (make test and make demo do this)")
        }
        try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if getuid() == 0 {
            // sshd's privilege separation directory; a fresh machine may not have it.
            try? manager.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        }
        let user = currentUser()
        let clientKey = directory + "/client/id_ed25519"
        try manager.createDirectory(atPath: directory + "/client", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var clientPublicKey = ""
        if sshd {
            try Tool.generateKey(at: clientKey, comment: "osfarm-sim client")
            clientPublicKey = try String(contentsOfFile: clientKey + ".pub", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        }

        let addresses = try Loopback.freeAddresses(count: servers.count, port: port)
        var databases: [SimulatedDatabase] = []
        var specs = servers
        var sessionDatabase: SimulatedDatabase?, loggingDatabase: SimulatedDatabase?
        let webPort = Self.webPort(addresses: addresses)
        if let simulation {
            let layout = simulation.layout
            databases = try layout.databases()
            if !layout.oracle {
                for index in databases.indices {
                    databases[index].security = .restored(windowsAuthentication: simulation.windowsAuthentication, catalogs: layout.catalogs)
                }
            }
            // After old and new: the session's own server, then the logging's.
            var extra = databases.dropFirst(2).makeIterator()
            if let servers = layout.databaseServers {
                sessionDatabase = servers.session == nil ? nil : extra.next()
                loggingDatabase = servers.logging == nil ? nil : extra.next()
            } else {
                sessionDatabase = layout.separateSessionDatabase ? extra.next() : nil
                loggingDatabase = layout.separateLoggingDatabase ? extra.next() : nil
            }
            let controller = zip(servers, addresses).first { $0.0.role == .deploymentController }?.1 ?? addresses[0]
            let privateKey = HsconfCipher.newPrivateKey()
            for (index, (spec, address)) in zip(servers, addresses).enumerated() {
                let serverDirectory = directory + "/servers/" + spec.name
                try ServerBuilder(
                    name: spec.name, role: spec.role, address: address, profile: simulation.profile, controllerAddress: controller,
                    databaseServer: databases[0].server, hasLogService: index % 2 == 0, clearTextPasswords: simulation.clearTextPasswords,
                    emulatorBinary: simulation.emulatorBinary, privateKey: privateKey,
                    hosts: databases.map { ($0.name, $0.address) }, windowsAuthentication: simulation.windowsAuthentication,
                    language: spec.language, defaultShell: spec.defaultShell, agentBinary: spec.agentBinary, copyAgent: spec.copyAgent,
                    sessionServer: sessionDatabase?.server, loggingServer: loggingDatabase?.server,
                    frontEndControllerService: layout.frontEndControllerService, oracle: layout.oracle, redisSessions: layout.redisSessions,
                    applicationServerPort: webPort, installedVersion: layout.platformVersion, serviceShapes: spec.services,
                    catalogs: layout.catalogs, measuredTimings: simulation.measuredTimings
                ).build(in: serverDirectory)
                specs[index].environment["OSFARM_SIM_ROOT"] = serverDirectory
                specs[index].environment["OSFARM_SIM_ADDRESS"] = address
            }
        }
        var started: [LocalFarmRecord.Server] = []
        var record = LocalFarmRecord(
            directory: directory, user: user, clientKey: clientKey, knownHosts: directory + "/known_hosts",
            inventory: directory + "/inventory.yaml", servers: [], profile: simulation?.profile,
            oldDatabase: databases.first, newDatabase: databases.count > 1 ? databases[1] : nil, sessionDatabase: sessionDatabase,
            loggingDatabase: loggingDatabase, networkPID: nil, httpPort: webPort == 80 ? nil : webPort, replicaOf: snapshot,
            replicaInventory: snapshot == nil ? nil : servers.compactMap(\.inventoryEntry))
        do {
            for (spec, address) in zip(specs, addresses) where !sshd {
                started.append(
                    LocalFarmRecord.Server(
                        name: spec.name, role: spec.role, address: address, port: port, sshdPID: 0,
                        directory: directory + "/servers/" + spec.name, hostKeyFingerprint: "",
                        language: simulation == nil ? nil : spec.language, defaultShell: simulation == nil ? nil : spec.defaultShell))
            }
            for (spec, address) in zip(specs, addresses) where sshd {
                started.append(
                    try startServer(
                        spec, address: address, port: port, farmDirectory: directory, user: user, clientPublicKey: clientPublicKey,
                        sessionProgram: simulation?.emulatorBinary))
            }
            record.servers = started
            try save(record)
            if let simulation {
                let log = try logDescriptor(directory + "/network.log")
                defer { close(log) }
                record.networkPID = try Tool.spawn(simulation.emulatorBinary, ["network", "--dir", directory], stderr: log)
            }
            if sshd { try waitUntilListening(started, directory: directory) }
        } catch {
            for server in started { ProcessTree.terminate(server.sshdPID, grace: 1) }
            if let pid = record.networkPID { ProcessTree.terminate(pid, grace: 1) }
            try? FileManager.default.removeItem(atPath: recordPath)
            throw error
        }
        if sshd {
            try writeKnownHosts(record)
            try InventoryWriter.write(record)
        }
        try save(record)
        if simulation != nil { try waitUntilInitialised(record) }
        return record
    }

    /// Writes a changed record back (a fault that takes a database down).
    public static func save(_ farm: LocalFarmRecord) throws {
        try WireCodec.recordEncoder(pretty: true).encode(farm).write(to: URL(fileURLWithPath: farm.directory + "/" + recordName), options: .atomic)
    }

    /// Reads the record of the farm in `directory`.
    public static func record(in directory: String) throws -> LocalFarmRecord {
        let path = directory + "/" + recordName
        guard let data = FileManager.default.contents(atPath: path) else { throw SimulatorError.noFarm(directory: directory) }
        do {
            return try JSONDecoder().decode(LocalFarmRecord.self, from: data)
        } catch {
            throw SimulatorError.badFarmRecord(path: path, reason: "\(error)")
        }
    }

    /// Stops every process of the farm (sshd, sessions, agents, the network process) and removes its
    /// record. With `removeFiles`, the whole directory goes too. A record that cannot be read does not
    /// leave processes behind: the sshd pid files are used instead.
    public static func down(directory: String, removeFiles: Bool = false) throws {
        var failure: Error?
        do {
            let farm = try record(in: directory)
            for server in farm.servers { ProcessTree.terminate(server.sshdPID) }
            if let pid = farm.networkPID { ProcessTree.terminate(pid) }
        } catch {
            failure = error
        }
        let servers = (try? FileManager.default.contentsOfDirectory(atPath: directory + "/servers")) ?? []
        for name in servers {
            let folder = directory + "/servers/" + name
            for file in ["/ssh/sshd.pid", "/helpers.pid"] {
                let pids = (try? String(contentsOfFile: folder + file, encoding: .utf8))?.split(whereSeparator: \.isNewline).compactMap { Int32($0) } ?? []
                for pid in pids where ProcessTree.isAlive(pid) { ProcessTree.terminate(pid, grace: 0.5) }
            }
        }
        try? FileManager.default.removeItem(atPath: directory + "/" + recordName)
        if removeFiles { try? FileManager.default.removeItem(atPath: directory) }
        if let failure, servers.isEmpty { throw failure }
    }

    /// Port 80 for the simulated web servers, as IIS uses, when this user may bind it and nothing
    /// holds it on the servers' addresses (a web server of this machine on 0.0.0.0:80 would);
    /// otherwise 8080 or the next free port, written into each server's ApplicationServerPort,
    /// which the agent reads.
    static func webPort(addresses: [String]) -> Int {
        let start =
            (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_unprivileged_port_start", encoding: .utf8))
            .flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 1024
        let candidates = (getuid() == 0 || start <= 80 ? [80] : []) + Array(8080...8180)
        return candidates.first { port in addresses.allSatisfy { Loopback.isFree(address: $0, port: port) } } ?? 8080
    }

    private static func currentUser() -> String {
        if let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name { return String(cString: name) }
        return ProcessInfo.processInfo.environment["USER"] ?? "root"
    }

    /// Lets a key in on a server of a farm. Plain servers: forced to `linuxCommand`. Simulated
    /// servers: listed in the Windows administrators_authorized_keys with `windowsForced` (nil: no
    /// forced command), and behind the simulator's Win32-OpenSSH session on the Linux side.
    public static func authorize(
        publicKey: String, on server: LocalFarmRecord.Server, farm: LocalFarmRecord, windowsForced: ForcedCommand,
        linuxCommand: String
    ) throws {
        let linuxFile = server.directory + "/ssh/authorized_keys"
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: linuxFile))
        defer { try? handle.close() }
        try handle.seekToEnd()
        guard farm.profile != nil, let session = sessionCommand(farm: farm, server: server) else {
            try handle.write(contentsOf: Data("command=\"\(linuxCommand.replacingOccurrences(of: "\"", with: "\\\""))\",restrict \(publicKey)\n".utf8))
            return
        }
        try handle.write(contentsOf: Data(linuxLine(sessionProgram: session, serverDirectory: server.directory, publicKey: publicKey, environment: [:]).utf8))
        try appendWindowsKey(publicKey, forced: windowsForced, shell: server.defaultShell ?? .commandPrompt, serverDirectory: server.directory)
    }

    /// The osfarm-sim binary a simulated farm's sessions run (the one that started its network process).
    private static func sessionCommand(farm: LocalFarmRecord, server: LocalFarmRecord.Server) -> String? {
        let link = ServerBuilder.localPath(#"C:\Windows\System32\sc.exe"#, serverDirectory: server.directory)
        return try? FileManager.default.destinationOfSymbolicLink(atPath: link)
    }

    /// The simulator's own authorized_keys line: the key goes through the emulated Win32-OpenSSH session.
    private static func linuxLine(sessionProgram: String, serverDirectory: String, publicKey: String, environment: [String: String]) -> String {
        let blob = publicKey.split(separator: " ").dropFirst().first.map(String.init) ?? ""
        var options = ["command=\"'\(sessionProgram)' win32-openssh-session --server '\(serverDirectory)' --key \(blob)\"", "restrict"]
        for (key, value) in environment.sorted(by: { $0.key < $1.key }) { options.append("environment=\"\(key)=\(value)\"") }
        return options.joined(separator: ",") + " " + publicKey + "\n"
    }

    /// Adds a key to the server's C:\ProgramData\ssh\administrators_authorized_keys as
    /// Install-OsfarmAgent.ps1 does: forced command with its quotes escaped, `restrict`.
    private static func appendWindowsKey(_ publicKey: String, forced: ForcedCommand, shell: DefaultShell, serverDirectory: String) throws {
        let path = ServerBuilder.localPath(OpenSSHSession.authorizedKeysPath, serverDirectory: serverDirectory)
        let command: String?
        switch forced {
        case .installDefault: command = WindowsAgentInstall.command(for: shell)
        case .none: command = nil
        case let .command(text): command = text
        }
        let options = command.map { AuthorizedKey.optionsText([("command", $0), ("restrict", nil)]) + " " } ?? ""
        let existing = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        try (existing + options + publicKey + "\r\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    private static func startServer(
        _ spec: LocalServerSpec, address: String, port: Int, farmDirectory: String, user: String,
        clientPublicKey: String, sessionProgram: String?
    ) throws -> LocalFarmRecord.Server {
        let manager = FileManager.default
        let serverDirectory = farmDirectory + "/servers/" + spec.name
        let sshDirectory = serverDirectory + "/ssh"
        try manager.createDirectory(atPath: sshDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let hostKey = sshDirectory + "/ssh_host_ed25519_key"
        try Tool.generateKey(at: hostKey, comment: "\(spec.name) host key")

        if let sessionProgram {
            try linuxLine(sessionProgram: sessionProgram, serverDirectory: serverDirectory, publicKey: clientPublicKey, environment: spec.environment)
                .write(toFile: sshDirectory + "/authorized_keys", atomically: true, encoding: .utf8)
            try appendWindowsKey(clientPublicKey, forced: spec.forcedCommand, shell: spec.defaultShell, serverDirectory: serverDirectory)
        } else {
            let command: String
            switch spec.forcedCommand {
            case .installDefault, .none: command = spec.agentBinary + " serve"
            case let .command(text): command = text
            }
            var options = ["command=\"\(command.replacingOccurrences(of: "\"", with: "\\\""))\"", "restrict"]
            for (key, value) in spec.environment.sorted(by: { $0.key < $1.key }) { options.append("environment=\"\(key)=\(value)\"") }
            try (options.joined(separator: ",") + " " + clientPublicKey + "\n")
                .write(toFile: sshDirectory + "/authorized_keys", atomically: true, encoding: .utf8)
        }

        // SetEnv SHLVL=1: sshd runs every command through the account's shell, and Debian's bash
        // reads ~/.bashrc when started by sshd at shell level 1. A Windows server runs no such
        // file, and a jump host account's one can be slow (pyenv init, which takes a lock: at 128
        // concurrent sessions it held agents back over 10 s). Level 2 makes bash skip it.
        let config = """
            ListenAddress \(address):\(port)
            HostKey \(hostKey)
            PidFile \(sshDirectory)/sshd.pid
            AuthorizedKeysFile \(sshDirectory)/authorized_keys
            AllowUsers \(user)
            UsePAM no
            StrictModes no
            PubkeyAuthentication yes
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            PermitRootLogin prohibit-password
            PermitUserEnvironment yes
            SetEnv SHLVL=1
            MaxStartups 500:30:1000
            MaxSessions 20
            LoginGraceTime 30
            LogLevel DEBUG1

            """
        try config.write(toFile: sshDirectory + "/sshd_config", atomically: true, encoding: .utf8)
        let pid = try Tool.spawn(sshdPath, ["-D", "-f", sshDirectory + "/sshd_config", "-E", sshDirectory + "/sshd.log"])
        let fingerprint = try Tool.run("/usr/bin/ssh-keygen", ["-l", "-f", hostKey + ".pub"]).split(separator: " ").dropFirst().first.map(String.init) ?? "?"
        return LocalFarmRecord.Server(
            name: spec.name, role: spec.role, address: address, port: port, sshdPID: pid,
            directory: serverDirectory, hostKeyFingerprint: fingerprint,
            language: sessionProgram == nil ? nil : spec.language, defaultShell: sessionProgram == nil ? nil : spec.defaultShell)
    }

    private static func logDescriptor(_ path: String) throws -> Int32 {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SimulatorError.badFarmRecord(path: path, reason: String(cString: strerror(errno))) }
        return fd
    }

    /// Waits until every server's enabled services have initialised (their ports answer).
    public static func waitUntilInitialised(_ farm: LocalFarmRecord, timeout: TimeInterval = 30) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let pending = farm.servers.filter { server in
                let state = try? StateStore(serverDirectory: server.directory).read()
                return state?.services.contains { FarmNetwork.servicePorts[$0.name] != nil && $0.state == .running && !$0.initialised } ?? true
            }
            if pending.isEmpty { return }
            guard Date() < deadline else {
                throw SimulatorError.sshdDidNotStart(server: pending[0].name, log: "its services did not initialise within \(Int(timeout)) s (see network.log)")
            }
            usleep(50_000)
        }
    }

    private static func waitUntilListening(_ servers: [LocalFarmRecord.Server], directory: String) throws {
        let deadline = Date().addingTimeInterval(15)
        var waiting = servers
        while !waiting.isEmpty {
            waiting.removeAll { Loopback.answers(address: $0.address, port: $0.port) }
            if waiting.isEmpty { return }
            for server in waiting where !ProcessTree.isAlive(server.sshdPID) || Date() > deadline {
                let log = (try? String(contentsOfFile: server.directory + "/ssh/sshd.log", encoding: .utf8)) ?? "(no log)"
                throw SimulatorError.sshdDidNotStart(server: server.name, log: String(log.suffix(2000)))
            }
            usleep(20_000)
        }
    }

    private static func writeKnownHosts(_ farm: LocalFarmRecord) throws {
        var lines: [String] = []
        for server in farm.servers {
            let publicKey = try String(contentsOfFile: server.directory + "/ssh/ssh_host_ed25519_key.pub", encoding: .utf8)
            let fields = publicKey.split(separator: " ")
            lines.append("[\(server.address)]:\(server.port) \(fields[0]) \(fields[1])")
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: farm.knownHosts, atomically: true, encoding: .utf8)
    }
}

/// Writes the farm's inventory in the format `osfarm` reads. A replica's keeps the real
/// inventory's targeting, tags, hooks and options, with this farm's addresses, port, user and
/// keys, and names the snapshot (osfarm then refuses any address off loopback in it).
enum InventoryWriter {
    /// A YAML single-quoted scalar: backslashes and double quotes stay as they are, `'` doubles.
    static func yamlQuoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }

    static func yamlList(_ items: [String]) -> String { "[" + items.map(yamlQuoted).joined(separator: ", ") + "]" }

    static func write(_ farm: LocalFarmRecord) throws {
        var text = "# Inventory of the simulated farm in \(farm.directory), written by osfarm-sim.\n"
        if let snapshot = farm.replicaOf {
            text += """
                # A REPLICA for rehearsals, built from a snapshot of a real farm: its servers are this machine's loopback
                # addresses. The hooks are the real inventory's and run as written (they are told the replica's addresses).
                replica:
                  snapshot: \(yamlQuoted(snapshot))

                """
        }
        text += """
            defaults:
              user: \(farm.user)
              port: \(farm.servers.first?.port ?? 22)
              identity: \(farm.clientKey)
              known_hosts: \(farm.knownHosts)
              agent: \(yamlQuoted(farm.profile == nil ? "osfarm-agent serve" : WindowsAgentInstall.command(for: .commandPrompt)))
            servers:

            """
        for server in farm.servers {
            let real = farm.replicaInventory?.first { $0.name == server.name }
            text += """
                  - name: \(server.name)
                    host: \(server.address)
                    role: \(server.role.rawValue)
                    tags: \(real.map { yamlList($0.tags) } ?? "[simulated]")

                """
            // The command osfarm sends runs through the server's shell when nothing is forced.
            if let real {
                text += "    agent: \(yamlQuoted(real.agent))\n"
            } else if let shell = server.defaultShell, shell != .commandPrompt {
                text += "    agent: \(yamlQuoted(WindowsAgentInstall.command(for: shell)))\n"
            }
            if let access = real?.serviceCenter {
                text += "    service-center:\n"
                if let host = access.host { text += "      host: \(yamlQuoted(host))\n" }
                if let port = access.port { text += "      port: \(port)\n" }
            }
            if let hooks = real?.hooks {
                text += "    hooks:\n"
                for (event, argv) in hooks.commands.sorted(by: { $0.key < $1.key }) { text += "      \(event): \(yamlList(argv))\n" }
                text += "      timeout: \(hooks.timeout)\n"
                if let names = hooks.passEnv { text += "      pass-env: \(yamlList(names))\n" }
                if let rejoin = hooks.rejoin { text += "      rejoin: \(rejoin)\n" }
            }
        }
        try text.write(toFile: farm.inventory, atomically: true, encoding: .utf8)
    }
}
