import FarmProtocol
import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// `ConfigurationTool.com` in console mode: the switches this job needs, case-insensitive, with
/// their argument counts checked; server.hsconf validated; every database server reached over real
/// TCP (a named instance through SQL Server Browser first); clear-text passwords encrypted in place
/// on success; Service Center installation refused unless IIS runs; every run logged to
/// C:\Windows\Temp\ConfigurationTool.log.
///
/// From the OutSystems 11 "Configuration Tool Command Line Reference" (docs-product,
/// config-tool-ref.md, the version listing `/WithWindowsAuthentication`):
/// - on a farm on integrated (Windows) authentication, `/UpgradeInstall` takes the administrator's
///   password, and `/InstallServiceCenter`, `/ApplySettingsFactory` and the other switches whose
///   entry says so need it through `/WithWindowsAuthentication <password>`; a run without it is
///   refused (non-zero exit, a message);
/// - `/ApplySettingsFactory` "restarts OutSystems services in the current server", "only generates
///   output in case of errors and cannot be used with other parameters"; `/GenerateTemplates`
///   cannot be used with others either.
struct ConfigurationToolEmulator {
    let store: StateStore
    let serverDirectory: String

    /// Switch → the numbers of arguments it accepts.
    static let switches: [String: [Int]] = [
        "/upgradeinstall": [0, 1], "/setupinstall": [0, 2, 4], "/rebuildsession": [2], "/installservicecenter": [0],
        "/scinstall": [0], "/applysettingsfactory": [0], "/generatetemplates": [0], "/setplatformserveradminpassword": [1],
        "/withwindowsauthentication": [1],
    ]

    /// The switches whose reference entry says they need `/WithWindowsAuthentication` on a farm on
    /// integrated authentication.
    static let needIntegratedPassword: Set<String> = [
        "/installservicecenter", "/scinstall", "/applysettingsfactory", "/rebuildsession", "/setplatformserveradminpassword",
    ]

    /// Switches that "cannot be used with other parameters" (`/WithWindowsAuthentication` aside).
    static let standalone: Set<String> = ["/applysettingsfactory", "/generatetemplates"]

    struct Failure: Error {
        let message: String
    }

    private func local(_ windowsPath: String) -> String { ServerBuilder.localPath(windowsPath, serverDirectory: serverDirectory) }
    private var install: String { ServerBuilder.installDirectory }

    func run(_ arguments: [String], out: (String) -> Void) throws -> Int32 {
        var requested: [(name: String, arguments: [String])] = []
        for token in arguments {
            if token.hasPrefix("/") {
                requested.append((token.lowercased(), []))
            } else if requested.isEmpty {
                return fail("Unexpected argument. Options start with '/'.", switches: [], out: out)
            } else {
                requested[requested.count - 1].arguments.append(token)
            }
        }
        let names = requested.map(\.name)
        guard !requested.isEmpty else {
            out(
                "Usage: ConfigurationTool.com [/SetupInstall [<user> <pwd> [<user> <pwd>]]] [/UpgradeInstall [<pwd>]] [/RebuildSession <user> <pwd>] [/InstallServiceCenter] [/ApplySettingsFactory] [/GenerateTemplates]\r\n"
            )
            return 1
        }
        for (name, given) in requested {
            guard let counts = Self.switches[name] else { return fail("Unknown option: \(name)", switches: names, out: out) }
            guard counts.contains(given.count) else {
                return fail(
                    "Wrong number of arguments for \(name): expected \(counts.map(String.init).joined(separator: " or ")), got \(given.count)", switches: names,
                    out: out)
            }
        }
        for name in names where Self.standalone.contains(name) {
            if let other = names.first(where: { $0 != name && $0 != "/withwindowsauthentication" }) {
                return fail("\(name) cannot be used with other parameters (\(other))", switches: names, out: out)
            }
        }
        let state = try store.read()
        ToolRunLog.record("start", serverDirectory: serverDirectory)
        defer { ToolRunLog.record("end", serverDirectory: serverDirectory) }
        // /ApplySettingsFactory "only generates output in case of errors".
        let quiet = names.contains("/applysettingsfactory")
        if !quiet { out("OutSystems Configuration Tool \(ServerBuilder.platformVersion) (simulated)\r\n") }
        log("Configuration Tool started with \(names.joined(separator: " "))")
        // The log and the record name the switches and how many arguments each had, never the arguments.
        let described = requested.map { $0.arguments.isEmpty ? $0.name : "\($0.name)(\($0.arguments.count))" }
        do {
            if let text = try? String(contentsOfFile: local(install + #"\server.hsconf"#), encoding: .utf8),
                (try? SimulatedHsconf(text: text))?.value(DatabaseSection.platform.elementName, "UsedAuthenticationMode") == "Windows Authentication"
            {
                try checkIntegratedPassword(requested)
            }
            try perform(requested.map(\.name), state: state, out: out)
        } catch let failure as Failure {
            return fail(failure.message, switches: described, out: out)
        }
        if !quiet { out("Configuration applied successfully.\r\n") }
        log("Configuration Tool finished successfully")
        try record(described, exitCode: 0, message: "ok")
        return 0
    }

    /// On a farm on integrated authentication every switch that needs the administrator's password
    /// must get it: after /UpgradeInstall, and through /WithWindowsAuthentication for the others.
    private func checkIntegratedPassword(_ requested: [(name: String, arguments: [String])]) throws {
        if requested.contains(where: { $0.name == "/upgradeinstall" && $0.arguments.isEmpty }) {
            throw Failure(message: "The platform database uses Integrated Authentication: /UpgradeInstall needs the administrator password")
        }
        let given = requested.first { $0.name == "/withwindowsauthentication" }?.arguments.first ?? ""
        if let needing = requested.first(where: { Self.needIntegratedPassword.contains($0.name) }), given.isEmpty {
            throw Failure(
                message:
                    "The platform database uses Integrated Authentication: \(needing.name) needs the administrator password (/WithWindowsAuthentication <password>)"
            )
        }
    }

    private func perform(_ names: [String], state: ServerState, out: (String) -> Void) throws {
        if FileLockProbeForSimulator.isLocked(local(#"C:\Windows\Microsoft.NET\Framework64\v4.0.30319\Config\machine.config"#)) {
            throw Failure(message: "Unable to update machine.config: the file is being used by another process.")
        }
        if let injected = state.faults.configurationToolFailure { throw Failure(message: injected) }
        if let seconds = state.faults.configurationToolOrphanSeconds { leaveOrphan(seconds: seconds, out: out) }
        if names == ["/generatetemplates"] {
            try generateTemplates()
            out("Templates written to \(install)\\docs\r\n")
            return
        }
        let hsconfPath = local(install + #"\server.hsconf"#)
        guard let data = FileManager.default.contents(atPath: hsconfPath) else {
            throw Failure(message: "Could not find \(install)\\server.hsconf")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw Failure(message: Self.invalidCharacter(in: Array(data))) }
        let hsconf: SimulatedHsconf
        do {
            hsconf = try SimulatedHsconf(text: text)
            try hsconf.validate()
        } catch {
            throw Failure(message: "Invalid configuration: \(error)")
        }
        guard let keyText = try? String(contentsOfFile: local(install + #"\private.key"#), encoding: .utf8),
            let key = HsconfCipher.keyBytes(privateKeyFile: keyText)
        else {
            throw Failure(message: "Could not read \(install)\\private.key; copy it from the deployment controller")
        }
        var checked: Set<String> = []
        for section in DatabaseSection.allCases {
            let server = hsconf.databaseLocation(section) ?? ""
            guard !checked.contains(server.lowercased()) else { continue }
            checked.insert(server.lowercased())
            if !names.contains("/applysettingsfactory") { out("Checking connection to database server \(server)...\r\n") }
            // SqlClient's default Connect Timeout, 15 s (SqlConnection.ConnectionTimeout; SOURCES.md):
            // a refused connection fails at once, one that hangs waits as long as on Windows.
            if let problem = SimulatedSQLClient.connectionProblem(server, serverDirectory: serverDirectory, timeout: 15) {
                throw Failure(message: "Error connecting to database server '\(server)': \(problem)")
            }
        }
        // Upgrading a model means logging in as the section's admin user (database authentication;
        // on integrated authentication the simulator does not model whose credentials the tool uses).
        if !names.contains("/applysettingsfactory"), let farm = try? LocalFarm.record(in: SimulatedSQLLogin.farmDirectory(of: serverDirectory)) {
            for section in [DatabaseSection.platform, .logging] where hsconf.value(section.elementName, "UsedAuthenticationMode") != "Windows Authentication" {
                if let problem = PlatformLogins.problem(section, roles: [.admin], hsconf: hsconf, farm: farm, serverDirectory: serverDirectory) {
                    throw Failure(message: "Error upgrading the \(section.rawValue) database model: \(problem)")
                }
            }
        }
        if names.contains("/applysettingsfactory") {
            // On the deployment controller it "also triggers the Apply Settings to the Factory
            // operation to update the configurations of all published modules".
            if state.role == .deploymentController {
                let seconds = state.delay(state.timing.configurationToolSeconds)
                SimulatedDelay.record("ConfigurationTool.com /ApplySettingsFactory", seconds: seconds, serverDirectory: store.serverDirectory)
                Thread.sleep(forTimeInterval: seconds)
                log("Applied settings to the factory")
            }
            try restartServices(hsconf: hsconf)
            return
        }
        let steps = [
            "Upgrading platform database model...", "Upgrading logging database model...", "Upgrading session database model...", "Applying settings...",
        ]
        let pause = state.delay(state.timing.configurationToolSeconds) / Double(max(1, steps.count + 1))
        SimulatedDelay.record("ConfigurationTool.com", seconds: pause * Double(steps.count + 1), serverDirectory: store.serverDirectory)
        for step in steps {
            out(step + "\r\n")
            log(step)
            Thread.sleep(forTimeInterval: pause)
        }
        Thread.sleep(forTimeInterval: pause)
        let encrypted = Self.encryptClearPasswords(text, key: key)
        if encrypted != text {
            try encrypted.write(toFile: hsconfPath, atomically: true, encoding: .utf8)
            log("Encrypted clear-text passwords in server.hsconf")
        }
        if names.contains("/installservicecenter") || names.contains("/scinstall") {
            guard state.service("W3SVC")?.state == .running else {
                throw Failure(
                    message: "Service Center installation failed: IIS is not running (World Wide Web Publishing Service is stopped). Start IIS and try again.")
            }
            out("Installing Service Center...\r\n")
            log("Installing Service Center")
            out("Service Center installed.\r\n")
        }
    }

    /// /ApplySettingsFactory "restarts OutSystems services in the current server": each running
    /// OutSystems service in the documented order is stopped and started again, through the same
    /// pending states sc.exe shows (as SetupTools' Restart-OSServerServices restarts them one by one).
    /// The services come back RUNNING but not initialised: their ports open only once they are.
    /// A service that does not stop within ServiceInitializationTimeoutInSeconds ("timeout for
    /// services to restart", server.hsconf reference) fails the run.
    private func restartServices(hsconf: SimulatedHsconf) throws {
        let limit = Double(hsconf.value("ServiceConfiguration", "ServiceInitializationTimeoutInSeconds") ?? "").flatMap { $0 > 0 ? $0 : nil } ?? 180
        let names = ServerBuilder.outSystemsServices
        for name in names {
            let stopping = try store.update { state -> Bool in
                guard let index = state.serviceIndex(name), state.services[index].state == .running else { return false }
                let stuck = state.faults.stuckStopping.contains { $0.caseInsensitiveCompare(name) == .orderedSame }
                let seconds = state.delay(state.timing.stopSeconds)
                state.services[index].state = .stopPending
                state.services[index].initialised = false
                state.services[index].pendingUntil = stuck ? nil : Date().timeIntervalSince1970 + seconds
                if !stuck { SimulatedDelay.record("stop \(name) (ApplySettingsFactory)", seconds: seconds, serverDirectory: store.serverDirectory) }
                return true
            }
            guard stopping else { continue }
            let deadline = Date().addingTimeInterval(limit)
            while try store.read().service(name)?.state != .stopped {
                guard Date() < deadline else { throw Failure(message: "Could not restart \(name): it did not stop within \(Int(limit)) seconds.") }
                Thread.sleep(forTimeInterval: 0.05)
            }
            let starting = try store.update { state -> Double in
                guard let index = state.serviceIndex(name) else { return 0 }
                let now = Date().timeIntervalSince1970, seconds = state.delay(state.timing.startSeconds)
                state.services[index].state = .startPending
                state.services[index].processID = state.newProcessID()
                state.services[index].pendingUntil = now + seconds
                SimulatedDelay.record("start \(name) (ApplySettingsFactory)", start: now, seconds: seconds, serverDirectory: store.serverDirectory)
                return seconds
            }
            Thread.sleep(forTimeInterval: starting)
            while try store.read().service(name)?.state != .running { Thread.sleep(forTimeInterval: 0.05) }
            log("Restarted \(name)")
        }
    }

    /// Replaces each password element without encrypted="true" by its encrypted form; drops
    /// PlatformServerAdminPassword (the tool consumes it). Every other byte stays.
    static func encryptClearPasswords(_ text: String, key: [UInt8]) -> String {
        var result = text
        for element in ["AdminPassword", "RuntimePassword", "SessionPassword", "ServicePassword", "LogPassword"] {
            let pattern = "<\(element)>([^<]*)</\(element)>"
            while let range = result.range(of: pattern, options: .regularExpression) {
                let inner = result[range].dropFirst(element.count + 2).dropLast(element.count + 3)
                let clear = unescape(String(inner))
                result.replaceSubrange(range, with: "<\(element) encrypted=\"true\">\(HsconfCipher.encrypt(clear, key: key))</\(element)>")
            }
        }
        if let range = result.range(of: "[ \t]*<PlatformServerAdminPassword[^>]*>[^<]*</PlatformServerAdminPassword>\r?\n", options: .regularExpression) {
            result.removeSubrange(range)
        }
        return result
    }

    private static func unescape(_ text: String) -> String {
        text.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'").replacingOccurrences(of: "&amp;", with: "&")
    }

    private func generateTemplates() throws {
        let docs = local(install + #"\docs"#)
        try FileManager.default.createDirectory(atPath: docs, withIntermediateDirectories: true)
        for provider in ["SqlServer", "Oracle"] {
            let template =
                "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<EnvironmentConfiguration>\r\n  <PlatformDatabaseConfiguration ProviderKey=\"\(provider)\" />\r\n</EnvironmentConfiguration>\r\n"
            try template.write(toFile: docs + "/\(provider)_template.hsconf", atomically: true, encoding: .utf8)
        }
    }

    private func fail(_ message: String, switches: [String], out: (String) -> Void) -> Int32 {
        out("ERROR: \(message)\r\n")
        log("ERROR \(message)")
        try? record(switches, exitCode: 1, message: message)
        return 1
    }

    private func record(_ switches: [String], exitCode: Int32, message: String) throws {
        try store.update {
            $0.lastConfigurationTool = ConfigurationToolRecord(
                switches: switches, exitCode: exitCode, message: message,
                finishedAt: Date().timeIntervalSince1970)
        }
    }

    private func log(_ message: String) {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss.SSS"
        formatter.locale = Locale(identifier: "en_US_POSIX")
        let line = "\(formatter.string(from: Date())) [\(message.hasPrefix("ERROR") ? "ERROR" : "INFO")] \(message)\r\n"
        let path = local(#"C:\Windows\Temp\ConfigurationTool.log"#)
        guard let handle = FileHandle(forWritingAtPath: path) else { return }
        defer { try? handle.close() }
        _ = try? handle.seekToEnd()
        try? handle.write(contentsOf: Data(line.utf8))
    }
}

extension ConfigurationToolEmulator {
    /// .NET's XML reader on a file declared utf-8 holding a byte that is not UTF-8: its decoder
    /// throws and the reader stops with this XmlException (SOURCES.md, "server.hsconf's encoding").
    /// The line is the byte's; the position counts the characters before it on that line, here
    /// taken as one per byte up to the first that is not ASCII.
    static func invalidCharacter(in bytes: [UInt8]) -> String {
        let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
        let index = lines.firstIndex { String(bytes: $0, encoding: .utf8) == nil } ?? 0
        let position = lines.isEmpty ? 1 : lines[index].prefix { $0 < 0x80 }.count + 1
        return "Invalid character in the given encoding. Line \(index + 1), position \(position)."
    }

    /// The injected fault: a helper started with the tool's output (so it holds the pipe) in the
    /// tool's process group, then the tool itself waiting as long (a run that hangs). The helper
    /// writes its pid to `configuration-tool-helper.pid` and `helpers.pid` (for farm down).
    func leaveOrphan(seconds: Double, out: (String) -> Void) {
        out("Starting the Configuration Tool's helper...\r\n")
        let pidFile = serverDirectory + "/configuration-tool-helper.pid"
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
        if let pid = try? Tool.spawn(binary, ["hold-pipe", "--seconds", String(seconds), "--pid-file", pidFile], stdout: 1, stderr: 2, ownGroup: false),
            let handle = FileHandle(forWritingAtPath: serverDirectory + "/helpers.pid")
                ?? {
                    FileManager.default.createFile(atPath: serverDirectory + "/helpers.pid", contents: nil)
                    return FileHandle(forWritingAtPath: serverDirectory + "/helpers.pid")
                }()
        {
            _ = try? handle.seekToEnd()
            try? handle.write(contentsOf: Data("\(pid)\n".utf8))
            try? handle.close()
        }
        Thread.sleep(forTimeInterval: seconds)
    }
}

/// The simulator's own checks of locks and ports (not the agent's code).
enum FileLockProbeForSimulator {
    static func isLocked(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 { return true }
        flock(fd, LOCK_UN)
        return false
    }
}

enum DatabaseProbe {
    static func answers(host: String, port: Int, timeout: TimeInterval) -> Bool {
        Loopback.answers(address: host, port: port, timeout: timeout)
    }

    /// A name as the simulated server resolves it: its own hosts file first, as Windows does.
    static func resolve(_ host: String, serverDirectory: String) -> String {
        let path = ServerBuilder.localPath(WindowsHostsFile.path, serverDirectory: serverDirectory)
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return host }
        return WindowsHostsFile(text: text).address(of: host) ?? host
    }
}
