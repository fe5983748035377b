import ArgumentParser
import FarmProtocol
import FarmSimulator
import Foundation

struct SimulatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "osfarm-sim",
        abstract: "Simulated OutSystems servers on this machine, each behind a real sshd.",
        version: "osfarm-sim \(OsfarmVersion.current)",
        subcommands: [Farm.self, Fault.self, Network.self, HoldLock.self, Win32OpenSSHSession.self, HoldPipe.self])
}

struct Fault: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Inject faults into a simulated server.")
    @Option(help: "The farm's folder.") var dir: String
    @Option(help: "The server to break.") var server: String
    @Option(help: "A service that will never leave STOP_PENDING (repeatable).") var stuckStop: [String] = []
    @Option(help: "A service whose start fails with error 1053 (repeatable).") var failStart: [String] = []
    @Option(help: "Make every Configuration Tool run fail with this message.") var configToolFailure: String?
    @Option(help: "Make the Configuration Tool start a helper that holds its output open, and hang, for this many seconds.")
    var configToolOrphan: Double?
    @Option(help: "Hold machine.config locked for this many seconds.") var lockMachineConfig: Double?
    @Option(help: "Make everything slower by this factor.") var slowdown: Double?
    @Option(help: "Take a database down: old or new (farm-wide).") var databaseDown: [String] = []
    @Option(help: "Set a hosts-file entry NAME=ADDRESS on the server (repeatable).") var hostsEntry: [String] = []
    @Option(help: "Stop SQL Server Browser on a database host: old, new, session or logging (farm-wide).") var browserDown: [String] = []
    @Option(help: "Give the server another installed platform version.") var platformVersion: String?
    @Flag(help: "Give the server a private.key of its own.") var newPrivateKey = false
    @Option(help: "Add Failover Partner=NAME to the platform section's RuntimeAdvancedSettings.") var failoverPartner: String?
    @Option(help: "Set CacheInvalidationConfiguration/ServiceHost.") var cacheServiceHost: String?
    @Option(help: "Set ServiceConfiguration/CompilerServerHostname (e.g. localhost).") var compilerServerHostname: String?
    @Option(help: "Set HKLM\\SOFTWARE\\OpenSSH DefaultShell (a path; empty removes it).") var defaultShell: String?
    @Option(help: "Set DefaultShellCommandOption (empty removes it).") var shellCommandOption: String?
    @Option(help: "Set DefaultShellArguments (empty removes it).") var shellArguments: String?
    @Option(help: "Set DefaultShellEscapeArguments (a DWORD).") var shellEscapeArguments: Int?
    @Option(help: "Write this text to $PSHOME\\profile.ps1 (empty removes it).") var powerShellProfile: String?
    @Option(help: "Set cmd.exe's HKLM Command Processor AutoRun (empty removes it).") var autoRun: String?
    @Option(help: "Give IIS's site a binding with this host name: other Host headers get 404 (empty removes it).") var iisHostBinding: String?
    @Flag(help: "Redirect every HTTP request to HTTPS.") var forceHttps = false
    @Option(
        help: ArgumentHelp(
            "Give the site an HTTPS binding (port 443, or 8443 and up when 443 cannot be bound): own (a certificate in the server's"
                + " machine store), foreign (one the server does not hold) or none.", valueName: "own|foreign|none"))
    var httpsBinding: String?
    @Option(
        help: ArgumentHelp(
            "Break a login on the database --login-database names (farm-wide): KIND=USER, KIND one of "
                + LoginFault.allCases.map(\.rawValue).joined(separator: ", ") + " (repeatable).", valueName: "kind=user"))
    var loginFault: [String] = []
    @Option(help: "The DBA's fix for a login on --login-database: carried over with its SID and password, enabled, its user mapped (repeatable).")
    var loginFix: [String] = []
    @Option(help: "The database the login faults and fixes apply to: old, new, session or logging.") var loginDatabase = "new"
    @Option(help: "Whether the server's SSH sessions have network credentials (true: a password logon or delegation).")
    var sessionCredentials: Bool?
    @Flag(help: "Remove the server's faults first.") var clear = false

    func run() async throws {
        var request = FaultRequest()
        request.stuckStopping = stuckStop
        request.failingStart = failStart
        request.configurationToolFailure = configToolFailure
        request.configurationToolOrphanSeconds = configToolOrphan
        request.lockMachineConfigSeconds = lockMachineConfig
        request.slowdown = slowdown
        request.databaseDown = databaseDown
        request.browserDown = browserDown
        request.drift.platformVersion = platformVersion
        request.drift.newPrivateKey = newPrivateKey
        request.drift.failoverPartner = failoverPartner
        request.drift.cacheServiceHost = cacheServiceHost
        request.drift.compilerServerHostname = compilerServerHostname
        request.shell.defaultShell = defaultShell
        request.shell.commandOption = shellCommandOption
        request.shell.arguments = shellArguments
        request.shell.escapeArguments = shellEscapeArguments
        request.shell.powerShellProfile = powerShellProfile
        request.shell.autoRun = autoRun
        request.iisHostBinding = iisHostBinding
        if forceHttps { request.forceHTTPS = true }
        if let httpsBinding {
            guard let binding = HTTPSBindingFault(rawValue: httpsBinding) else {
                throw ValidationError("--https-binding takes own, foreign or none, not \(httpsBinding)")
            }
            request.httpsBinding = binding
        }
        request.clear = clear
        request.loginDatabase = loginDatabase
        request.loginFixes = loginFix
        request.sessionNetworkCredentials = sessionCredentials
        request.loginFaults = try loginFault.map(LoginFault.parse)
        for entry in hostsEntry {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ValidationError("--hosts-entry takes NAME=ADDRESS, not \(entry)") }
            request.hostsEntries[parts[0]] = parts[1]
        }
        try FaultInjection.apply(
            request, server: server, directory: URL(fileURLWithPath: dir).standardized.path,
            emulatorBinary: ownExecutable())
        print(request.onlyClears ? "faults cleared on \(server)" : request.clear ? "faults cleared, then applied to \(server)" : "faults applied to \(server)")
    }
}

struct Network: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The farm's network process (started by farm up): service and database ports.", shouldDisplay: false)
    @Option var dir: String

    func run() async throws {
        try FarmNetwork(directory: URL(fileURLWithPath: dir).standardized.path).run()
    }
}

struct HoldLock: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "hold-lock", abstract: "Hold a file locked (fault helper).", shouldDisplay: false)
    @Option var file: String
    @Option var seconds: Double

    func run() async throws {
        throw ExitCode(FaultInjection.holdLock(path: file, seconds: seconds))
    }
}

struct Win32OpenSSHSession: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "win32-openssh-session",
        abstract: "Run an SSH session's command as Win32-OpenSSH would on a simulated server (forced by its sshd).", shouldDisplay: false)
    @Option(help: "The simulated server's folder.") var server: String
    @Option(help: "The public key (base64) the client logged in with.") var key: String

    func run() async throws {
        throw ExitCode(OpenSSHSession.run(serverDirectory: server, key: key))
    }
}

struct HoldPipe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hold-pipe", abstract: "Keep stdout open for a while (fault helper).", shouldDisplay: false)
    @Option var seconds: Double
    @Option(help: "Write this process's id to this file first.") var pidFile: String?

    func run() async throws {
        if let pidFile { try "\(ProcessInfo.processInfo.processIdentifier)\n".write(toFile: pidFile, atomically: true, encoding: .utf8) }
        try await Task.sleep(nanoseconds: UInt64(max(0, seconds) * 1_000_000_000))
    }
}

/// This binary's absolute path: the emulated programs and helpers are this binary under other names.
func ownExecutable() -> String {
    FarmLayout.ownExecutablePath()
}

extension SimulationProfile: ExpressibleByArgument {}

struct Farm: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Bring a local simulated farm up or down, or show its state.",
        subcommands: [Up.self, Down.self, Status.self, Database.self])

    struct Up: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Start one deployment controller and N front-ends.")
        @Option(help: "Folder that holds the farm (keys, known_hosts, inventory, servers).") var dir: String
        @Option(help: "How many front-ends.") var frontEnds: Int = 3
        @Option(help: "The osfarm-agent binary each server runs (default: next to osfarm-sim).") var agent: String?
        @Option(help: "The SSH port every server listens on (each has its own address).") var port: Int = 2222
        @Option(help: "How long things take: instant, fast or realistic.") var profile: SimulationProfile = .fast
        @Flag(help: "Write database passwords in server.hsconf in clear text (the Configuration Tool encrypts them).")
        var clearTextPasswords = false
        @Flag(help: "Plain sshd + agent servers, no simulated Windows (for SSH fan-out benchmarks).")
        var noSimulation = false
        @Option(
            help: ArgumentHelp(
                "Display language of the servers' Windows programs: LANG for all, or NAME=LANG for one (repeatable). "
                    + "One of \(DisplayLanguage.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "[NAME=]LANG"))
        var language: [String] = []
        @Option(
            help: ArgumentHelp(
                "Win32-OpenSSH DefaultShell: cmd or powershell, for all or NAME=SHELL for one (repeatable).",
                valueName: "[NAME=]SHELL"))
        var defaultShell: [String] = []
        @Flag(help: "The databases use Windows (integrated) authentication.") var windowsAuthentication = false
        @Option(help: "The new database is this named instance, without a port (its port is dynamic, announced by SQL Server Browser).")
        var newDatabaseInstance: String?
        @Flag(help: "No SQL Server Browser on the new database's host.") var noNewDatabaseBrowser = false
        @Flag(help: "The new instance is hidden (HideInstance): Browser does not announce it.") var hiddenNewDatabaseInstance = false
        @Flag(help: "The session section lives on its own database server (sql-session.farm.test).") var separateSessionDatabase = false
        @Flag(help: "The logging section lives on its own database server (sql-logging.farm.test).") var separateLoggingDatabase = false
        @Option(help: "The Deployment Controller service's start type on front-ends: disabled or manual.")
        var frontEndControllerService: String = "disabled"
        @Flag(help: "The database sections use Oracle (Host/Port/ServiceName).") var oracle = false
        @Flag(help: "Sessions are kept in Redis (InMemorySessionConfiguration).") var redisSessions = false
        @Option(
            help: ArgumentHelp(
                "A login the restore on the new database broke: KIND=USER, KIND one of " + LoginFault.allCases.map(\.rawValue).joined(separator: ", ")
                    + " (repeatable; osfarm-sim fault --login-fix clears it).", valueName: "kind=user"))
        var loginFault: [String] = []
        @Option(help: "Build a replica of the farm this snapshot (osfarm inspect --save) describes, instead of a farm of the options above.")
        var from: String?
        @Option(
            help: "With --from: the database server the move will go to (as move-db run --to will name it), built with the same name and form.")
        var to: String?

        func validate() throws {
            if from != nil, to == nil { throw ValidationError("--from needs --to: the database server the move will go to (move-db run's --to)") }
            if to != nil, from == nil { throw ValidationError("--to is for a replica: give --from SNAPSHOT too") }
            guard (0...250).contains(frontEnds) else { throw ValidationError("--front-ends must be 0…250") }
            guard ["disabled", "manual"].contains(frontEndControllerService) else {
                throw ValidationError("--front-end-controller-service takes disabled or manual, not \(frontEndControllerService)")
            }
            if let instance = newDatabaseInstance, let problem = SimulatedLayout.problem(instance: instance) { throw ValidationError(problem) }
        }

        var layout: SimulatedLayout {
            SimulatedLayout(
                newDatabaseInstance: newDatabaseInstance, newDatabaseBrowser: !noNewDatabaseBrowser,
                newDatabaseHidden: hiddenNewDatabaseInstance, separateSessionDatabase: separateSessionDatabase,
                separateLoggingDatabase: separateLoggingDatabase,
                frontEndControllerService: frontEndControllerService == "manual" ? .manual : .disabled, oracle: oracle,
                redisSessions: redisSessions)
        }

        func run() async throws {
            let directory = URL(fileURLWithPath: dir).standardized.path
            let agentPath = agent.map { URL(fileURLWithPath: $0).standardized.path } ?? FarmLayout.siblingAgentPath()
            guard FileManager.default.isExecutableFile(atPath: agentPath) else {
                throw ValidationError("no agent binary at \(agentPath); build it or pass --agent")
            }
            if let from, let to {
                try upReplica(from: from, to: to, directory: directory, agentPath: agentPath)
                return
            }
            var servers = FarmLayout.servers(frontEnds: frontEnds, agentBinary: agentPath)
            let languages = try FarmLayout.assignments(language, servers: servers, option: "--language") { DisplayLanguage(tag: $0) }
            let shells = try FarmLayout.assignments(defaultShell, servers: servers, option: "--default-shell") { DefaultShell(rawValue: $0.lowercased()) }
            for index in servers.indices {
                if let value = languages[servers[index].name] { servers[index].language = value }
                if let value = shells[servers[index].name] { servers[index].defaultShell = value }
            }
            let farm = try LocalFarm.up(
                directory: directory, servers: servers, port: port,
                simulation: noSimulation
                    ? nil
                    : SimulationOptions(
                        profile: profile, emulatorBinary: ownExecutable(), clearTextPasswords: clearTextPasswords,
                        windowsAuthentication: windowsAuthentication, layout: layout))
            if !loginFault.isEmpty, let controller = farm.servers.first(where: { $0.role == .deploymentController }) {
                var request = FaultRequest()
                request.loginFaults = try loginFault.map(LoginFault.parse)
                try FaultInjection.apply(request, server: controller.name, directory: directory, emulatorBinary: ownExecutable())
            }
            show(farm, directory: directory)
        }

        func upReplica(from: String, to: String, directory: String, agentPath: String) throws {
            let path = URL(fileURLWithPath: from).standardized.path
            let snapshot: FarmSnapshot
            let target: DatabaseServerAddress
            do {
                snapshot = try FarmSnapshotFile.read(path: path)
                target = try DatabaseServerAddress(parsing: to)
            } catch {
                throw ValidationError("\(error)")
            }
            let replica = try FarmReplica.plan(
                snapshot, path: path, to: target, agentBinary: agentPath, emulatorBinary: ownExecutable(), profile: profile)
            let farm = try LocalFarm.up(directory: directory, servers: replica.servers, port: port, simulation: replica.simulation, replicaOf: path)
            for name in Set(replica.drift.keys).union(replica.hostBindings.keys).sorted() {
                var request = FaultRequest()
                request.drift = replica.drift[name] ?? ConfigurationDrift()
                request.iisHostBinding = replica.hostBindings[name]
                try FaultInjection.apply(request, server: name, directory: directory, emulatorBinary: ownExecutable())
            }
            print("replica of \(path) (taken \(ISO8601DateFormatter().string(from: snapshot.takenAt)))")
            if let timings = replica.simulation.measuredTimings, let durations = snapshot.durations {
                func seconds(_ value: Double) -> String { String(format: "%.1f s", value) }
                print(
                    "delays from run \(durations.runID): service stop \(seconds(timings.stopSeconds)), start \(seconds(timings.startSeconds)), "
                        + "initialisation \(seconds(timings.initialisationSeconds)), iisreset \(seconds(timings.iisSeconds)), "
                        + "Configuration Tool \(seconds(timings.configurationToolSeconds))")
            } else {
                print("delays: the \(profile.rawValue) profile's (the snapshot has no measured durations)")
            }
            for note in replica.notes { print("note: \(note)") }
            show(farm, directory: directory)
        }

        func show(_ farm: LocalFarmRecord, directory: String) {
            print("farm up in \(directory): \(farm.servers.count) servers")
            for server in farm.servers {
                let windows = server.language.map { "  \($0.rawValue)  \(server.defaultShell?.rawValue ?? "cmd")" } ?? ""
                print("  \(server.name)  \(server.role.rawValue)  \(server.address):\(server.port)  \(server.hostKeyFingerprint)\(windows)")
            }
            for label in ["old", "new", "session", "logging"] {
                guard let database = farm.database(label) else { continue }
                print("database:    \(label) \(database.server) (\(database.address):\(database.port))")
            }
            print("inventory:   \(farm.inventory)")
            print("known_hosts: \(farm.knownHosts)")
            print("next:        osfarm check -i \(farm.inventory)")
            if let new = farm.database("new") {
                // A replica is for the window's run line, rehearsed.
                print("             osfarm move-db \(farm.replicaOf == nil ? "plan" : "rehearse") -i \(farm.inventory) --to \(new.server)")
            }
            print("             osfarm-sim farm down --dir \(directory)   (when you are done)")
        }
    }

    struct Down: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop every process of the farm.")
        @Option(help: "The farm's folder.") var dir: String
        @Flag(help: "Also delete the folder.") var remove = false

        func run() async throws {
            try LocalFarm.down(directory: URL(fileURLWithPath: dir).standardized.path, removeFiles: remove)
            print("farm down")
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the farm's servers as they really are (not through the agent).")
        @Option(help: "The farm's folder.") var dir: String
        @Flag(help: "Print JSON.") var json = false
        @Option(help: "Exit 1 unless every server names this database in all three sections with every enabled service and IIS running.")
        var expectDatabase: String?
        @Option(help: "Exit 1 unless every server names SERVER in SECTION (platform, session or logging), as SECTION=SERVER (repeatable).")
        var expectSection: [String] = []

        func run() async throws {
            let status = try FarmStatus.read(directory: URL(fileURLWithPath: dir).standardized.path)
            print(json ? try status.json() : status.text(), terminator: "")
            if let expected = expectDatabase {
                let wrong = status.servers.filter { $0.database?.caseInsensitiveCompare(expected) != .orderedSame || !$0.allRunning }
                guard wrong.isEmpty else {
                    FileHandle.standardError.write(Data("not on \(expected) with everything running: \(wrong.map(\.name).joined(separator: ", "))\n".utf8))
                    throw ExitCode(1)
                }
                print("every server names \(expected) and runs")
            }
            for expectation in expectSection {
                let parts = expectation.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, DatabaseSection(rawValue: parts[0]) != nil else {
                    throw ValidationError("--expect-section takes SECTION=SERVER with SECTION platform, session or logging, not \(expectation)")
                }
                let wrong = status.servers.filter { $0.databaseServers[parts[0]]?.caseInsensitiveCompare(parts[1]) != .orderedSame }
                guard wrong.isEmpty else {
                    FileHandle.standardError.write(
                        Data(
                            "\(parts[0]) not on \(parts[1]): \(wrong.map { "\($0.name) (\($0.databaseServers[parts[0]] ?? "none"))" }.joined(separator: ", "))\n"
                                .utf8))
                    throw ExitCode(1)
                }
                print("every server names \(parts[1]) in its \(parts[0]) section")
            }
        }
    }

    struct Database: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "database", abstract: "Print a database server of the farm, as server.hsconf names it.")
        @Option(help: "The farm's folder.") var dir: String
        @Argument(help: "old, new, session or logging") var which: String

        func run() async throws {
            let farm = try LocalFarm.record(in: URL(fileURLWithPath: dir).standardized.path)
            guard ["old", "new", "session", "logging"].contains(which) else { throw ValidationError("old, new, session or logging") }
            print(farm.database(which)?.server ?? "")
        }
    }
}

extension LoginFault {
    /// `--login-fault KIND=USER`.
    static func parse(_ entry: String) throws -> LoginFaultOnUser {
        let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, let fault = LoginFault(rawValue: parts[0]), !parts[1].isEmpty else {
            throw ValidationError("--login-fault takes KIND=USER with KIND one of \(LoginFault.allCases.map(\.rawValue).joined(separator: ", ")), not \(entry)")
        }
        return LoginFaultOnUser(fault: fault, user: parts[1])
    }
}
