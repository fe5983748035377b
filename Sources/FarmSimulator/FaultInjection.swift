import FarmProtocol
import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// Faults to inject into a simulated server.
public struct FaultRequest: Sendable, Equatable {
    public var stuckStopping: [String] = []
    public var failingStart: [String] = []
    public var configurationToolFailure: String?
    /// The Configuration Tool leaves a helper holding its output open and hangs, both this long.
    public var configurationToolOrphanSeconds: Double?
    public var lockMachineConfigSeconds: Double?
    public var slowdown: Double?
    /// Databases to take down: old, new, session or logging (farm-wide).
    public var databaseDown: [String] = []
    /// Database hosts whose SQL Server Browser stops answering: old, new, session or logging (farm-wide).
    public var browserDown: [String] = []
    /// Configuration this server alone has (another version, private.key, server names in hsconf).
    public var drift = ConfigurationDrift()
    /// What sshd starts a session with (issue 19): DefaultShell values, a profile, AutoRun.
    public var shell = ShellSetup()
    /// IIS answers only this host name (empty: any again).
    public var iisHostBinding: String?
    /// Redirect every request to HTTPS.
    public var forceHTTPS: Bool?
    /// Give the site an HTTPS binding presenting the server's own certificate or a foreign one, or remove it.
    public var httpsBinding: HTTPSBindingFault?
    /// Hosts-file entries to set on the server, name → address (a stale entry makes a database unreachable from it).
    public var hostsEntries: [String: String] = [:]
    /// Logins to break on `loginDatabase` (farm-wide): what a restore without the logins leaves.
    public var loginFaults: [LoginFaultOnUser] = []
    /// Logins the DBA fixes on `loginDatabase`: carried over with their SID and password, enabled,
    /// default database and roles as a good restore leaves them.
    public var loginFixes: [String] = []
    /// The database (old, new, session or logging) the login faults and fixes apply to.
    public var loginDatabase = "new"
    /// Give this server's SSH sessions network credentials (true), or take them away (false).
    public var sessionNetworkCredentials: Bool?
    public var clear = false

    public init() {}

    /// Only `--clear`: the server's faults removed, none added.
    public var onlyClears: Bool {
        var cleared = FaultRequest()
        cleared.clear = true
        return self == cleared
    }
}

/// The HTTPS binding to give a server.
public enum HTTPSBindingFault: String, Sendable, Equatable, CaseIterable {
    /// The server's own certificate: issued to its host name by a CA the machine trusts, in LocalMachine\My.
    case own
    /// A certificate this server does not hold (self-signed, not in any machine store), as
    /// another program answering on the port would present.
    case foreign
    /// No HTTPS binding (`none`; not `.none`, which an optional would take for nil).
    case removed = "none"

    /// Port 443 as IIS uses, when this user may bind it and nothing holds it; otherwise 8443 or the next free port.
    static func port(address: String) -> Int {
        let start =
            (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_unprivileged_port_start", encoding: .utf8))
            .flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 1024
        let candidates = (getuid() == 0 || start <= 443 ? [443] : []) + Array(8443...8543)
        return candidates.first { Loopback.isFree(address: address, port: $0) } ?? 8443
    }

    func binding(serverName: String, address: String) -> SimulatedHTTPSBinding? {
        let host = serverName.lowercased()
        func thumbprint(_ seed: String) -> String {
            // A stable stand-in for the certificate's SHA-1 hash, 40 hex digits.
            var value: UInt64 = 0xcbf2_9ce4_8422_2325
            var digits = ""
            for round in 0..<3 {
                for byte in (seed + "\(round)").utf8 { value = (value ^ UInt64(byte)) &* 0x100_0000_01b3 }
                digits += String(format: "%016llX", value)
            }
            return String(digits.prefix(40))
        }
        switch self {
        case .own:
            return SimulatedHTTPSBinding(
                port: Self.port(address: address),
                certificate: SimulatedCertificate(
                    subject: "CN=\(host)", thumbprint: thumbprint("own-" + host), dnsNames: [host], inMachineStore: true, trusted: true))
        case .foreign:
            return SimulatedHTTPSBinding(
                port: Self.port(address: address),
                certificate: SimulatedCertificate(
                    subject: "CN=localhost", thumbprint: thumbprint("foreign-" + host), dnsNames: ["localhost"], inMachineStore: false, trusted: false))
        case .removed:
            return nil
        }
    }
}

/// One login fault and the platform user it breaks.
public struct LoginFaultOnUser: Sendable, Equatable {
    public var fault: LoginFault
    public var user: String
    public init(fault: LoginFault, user: String) {
        self.fault = fault
        self.user = user
    }
}

public enum FaultInjection {
    /// Ends the machine.config locks injected on the server in `serverDirectory` now, as their
    /// holder exiting would (the lock's helpers are listed in its `helpers.pid`), and returns once
    /// the file is free, so what follows sees it free (as `apply` returns once a lock is held).
    public static func releaseMachineConfig(serverDirectory: String) {
        let helpers = (try? String(contentsOfFile: serverDirectory + "/helpers.pid", encoding: .utf8)) ?? ""
        for pid in helpers.split(separator: "\n").compactMap({ Int32($0) }) {
            let command = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
            if command.contains("hold-lock") { ProcessTree.terminate(pid, grace: 1) }
        }
        let path = ServerBuilder.localPath(machineConfig, serverDirectory: serverDirectory)
        let deadline = Date().addingTimeInterval(5)
        while FileLockProbeForSimulator.isLocked(path) && Date() < deadline { usleep(10_000) }
    }

    static let machineConfig = #"C:\Windows\Microsoft.NET\Framework64\v4.0.30319\Config\machine.config"#

    public static func apply(_ request: FaultRequest, server name: String, directory: String, emulatorBinary: String) throws {
        var farm = try LocalFarm.record(in: directory)
        let server = try farm.server(named: name)
        let store = StateStore(serverDirectory: server.directory)
        try store.update { state in
            if request.clear { state.faults = InjectedFaults() }
            for service in request.stuckStopping + request.failingStart where state.serviceIndex(service) == nil {
                throw SimulatorError.unknownService(server: name, service: service, known: state.services.map(\.name))
            }
            state.faults.stuckStopping += request.stuckStopping
            state.faults.failingStart += request.failingStart
            if let failure = request.configurationToolFailure { state.faults.configurationToolFailure = failure }
            if let seconds = request.configurationToolOrphanSeconds { state.faults.configurationToolOrphanSeconds = seconds }
            if let slowdown = request.slowdown { state.faults.slowdown = slowdown }
            if let binding = request.iisHostBinding { state.faults.iisHostBinding = binding.isEmpty ? nil : binding }
            if let force = request.forceHTTPS { state.faults.forceHTTPS = force }
            if let https = request.httpsBinding {
                // The port stays what it was when the certificate changes (netsh binds a new certificate to the same port).
                var binding = https.binding(serverName: state.name, address: state.address)
                if let known = state.faults.httpsBinding?.port { binding?.port = known }
                state.faults.httpsBinding = binding
            }
            if let credentials = request.sessionNetworkCredentials { state.faults.sessionNetworkCredentials = credentials }
        }
        if request.iisHostBinding != nil || request.clear {
            // applicationHost.config says what IIS serves.
            try ServerBuilder.writeApplicationHost(
                serverDirectory: server.directory, port: farm.webPort, hostBinding: try store.read().faults.iisHostBinding)
        }
        if !request.loginFaults.isEmpty || !request.loginFixes.isEmpty {
            let windows =
                ((try? String(
                    contentsOfFile: ServerBuilder.localPath(ServerBuilder.installDirectory + #"\server.hsconf"#, serverDirectory: server.directory),
                    encoding: .utf8))
                .flatMap { try? SimulatedHsconf(text: $0) })?.value(DatabaseSection.platform.elementName, "UsedAuthenticationMode") == "Windows Authentication"
            var failure: Error?
            let changed = farm.changeDatabase(request.loginDatabase) { database in
                var security = database.security ?? .restored(windowsAuthentication: windows)
                do {
                    for broken in request.loginFaults { try broken.fault.apply(to: &security, user: broken.user) }
                } catch { failure = error }
                for user in request.loginFixes { LoginFault.fix(&security, user: user, windowsAuthentication: windows) }
                database.security = security
            }
            guard changed else { throw SimulatorError.unknownServer("database \"\(request.loginDatabase)\" (use old, new, session or logging)") }
            if let failure { throw failure }
            try LocalFarm.save(farm)
        }
        if !request.drift.isEmpty { try request.drift.apply(serverDirectory: server.directory, store: store) }
        if !request.shell.isEmpty { try request.shell.apply(serverDirectory: server.directory, store: store) }
        if !request.hostsEntries.isEmpty {
            let path = ServerBuilder.localPath(WindowsHostsFile.path, serverDirectory: server.directory)
            var lines = ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").components(separatedBy: "\r\n").filter { line in
                !request.hostsEntries.keys.contains { line.hasSuffix("\t" + $0) }
            }
            while lines.last == "" { lines.removeLast() }
            for (name, address) in request.hostsEntries.sorted(by: { $0.key < $1.key }) { lines.append("\(address)\t\(name)") }
            try (lines.joined(separator: "\r\n") + "\r\n").write(toFile: path, atomically: true, encoding: .utf8)
        }
        if let seconds = request.lockMachineConfigSeconds {
            let path = ServerBuilder.localPath(machineConfig, serverDirectory: server.directory)
            let pid = try Tool.spawn(emulatorBinary, ["hold-lock", "--file", path, "--seconds", String(seconds)])
            let pidFile = server.directory + "/helpers.pid"
            if !FileManager.default.fileExists(atPath: pidFile) { _ = FileManager.default.createFile(atPath: pidFile, contents: nil) }
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: pidFile))
            _ = try? handle.seekToEnd()
            try handle.write(contentsOf: Data("\(pid)\n".utf8))
            try handle.close()
            // Return once the lock is really held, so what follows sees it.
            let deadline = Date().addingTimeInterval(5)
            while !FileLockProbeForSimulator.isLocked(path) && Date() < deadline { usleep(10_000) }
        }
        if !request.databaseDown.isEmpty || !request.browserDown.isEmpty || request.clear {
            if request.clear && request.databaseDown.isEmpty && request.browserDown.isEmpty {
                for label in ["old", "new", "session", "logging"] {
                    farm.changeDatabase(label) { $0.up = true }
                }
            }
            for which in request.databaseDown {
                guard farm.changeDatabase(which, { $0.up = false }) else {
                    throw SimulatorError.unknownServer("database \"\(which)\" (use old, new, session or logging)")
                }
            }
            for which in request.browserDown {
                guard farm.changeDatabase(which, { $0.browser = false }) else {
                    throw SimulatorError.unknownServer("database \"\(which)\" (use old, new, session or logging)")
                }
            }
            try LocalFarm.save(farm)
            awaitNetwork(farm, labels: request.clear ? ["old", "new", "session", "logging"] : request.databaseDown + request.browserDown)
        }
    }

    /// Returns once the simulated network answers as the record now says (osfarm-sim's network
    /// process reads the record on its next tick), so what follows sees the fault; gives up after
    /// 10 s, as when the farm's network is not running.
    private static func awaitNetwork(_ farm: LocalFarmRecord, labels: [String]) {
        let databases = labels.compactMap { farm.database($0) }
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            let settled = databases.allSatisfy { database in
                guard Loopback.answers(address: database.address, port: database.port, timeout: 0.2) == database.up else { return false }
                guard let instance = database.instance else { return true }
                let browserAnswers = SimulatedSQLClient.browserPort(host: database.address, instance: instance, timeout: 0.2) != nil
                return browserAnswers == (database.up && database.browserRuns)
            }
            if settled { return }
            usleep(20_000)
        }
    }

    /// Holds an exclusive lock on a file for a while (stands in for a process holding machine.config).
    public static func holdLock(path: String, seconds: Double) -> Int32 {
        let fd = open(path, O_RDONLY)
        guard fd >= 0, flock(fd, LOCK_EX) == 0 else { return 1 }
        Thread.sleep(forTimeInterval: seconds)
        flock(fd, LOCK_UN)
        close(fd)
        return 0
    }
}
