import FarmProtocol
import Foundation

/// Lays out a new simulated Windows OutSystems server: its C: tree, its registry and services, and
/// the emulated Windows programs (links to the osfarm-sim binary, which acts by the name it runs under).
public struct ServerBuilder {
    public static let installDirectory = #"C:\Program Files\OutSystems\Platform Server"#
    public static let platformVersion = "11.23.0.1"
    /// The OutSystems services in the documented order (SetupTools' $OSServices, Lib/Constants.ps1).
    public static let outSystemsServices = [
        "OutSystems Log Service", "OutSystems Deployment Controller Service", "OutSystems Deployment Service",
        "OutSystems Scheduler Service", "OutSystems SMS Connector Service",
    ]

    public var name: String
    public var role: ServerRole
    public var address: String
    public var profile: SimulationProfile
    /// The DC's address, as CompilerServerHostname and the cache host.
    public var controllerAddress: String
    /// The database server value all three sections start with.
    public var databaseServer: String
    public var hasLogService: Bool
    /// Write the DB passwords in clear text (as an operator preparing a file would) instead of encrypted.
    public var clearTextPasswords: Bool
    /// The osfarm-sim binary the emulated programs link to.
    public var emulatorBinary: String
    /// Shared by every server of a farm (OutSystems requires the same private.key everywhere).
    public var privateKey: String
    /// Names for the server's hosts file (the database servers).
    public var hosts: [(name: String, address: String)] = []
    /// The databases use Windows (integrated) authentication.
    public var windowsAuthentication = false
    /// The display language its programs print in.
    public var language: DisplayLanguage = .english
    /// The shell its sshd runs a session's command with.
    public var defaultShell: DefaultShell = .commandPrompt
    /// The agent binary installed at C:\Program Files\osfarm\osfarm-agent.exe (nil: none).
    public var agentBinary: String?
    /// Copy the agent instead of linking it, so an agent update on this server replaces only its copy.
    public var copyAgent = false
    /// The session and logging sections' servers when they are not `databaseServer`.
    public var sessionServer: String?
    public var loggingServer: String?
    /// The Deployment Controller service's start type on a front-end (Disabled or Manual; stopped either way).
    public var frontEndControllerService: ServiceStartType = .disabled
    /// The database sections use Oracle (Host/Port/ServiceName) instead of SQL Server.
    public var oracle = false
    /// Sessions are kept in Redis (InMemorySessionConfiguration).
    public var redisSessions = false
    /// The port IIS serves on (ServerConfiguration/ApplicationServerPort).
    public var applicationServerPort = 80
    /// The installed platform version (registry and server.hsconf).
    public var installedVersion = ServerBuilder.platformVersion
    /// The services to install instead of the default set (a replica's: as the real server has them).
    public var serviceShapes: [ServiceShape]?
    /// Each section's catalog (default: outsystems, osSession, outsystems_log).
    public var catalogs = SimulatedLayout.defaultCatalogs
    /// Measured delays replacing the profile's.
    public var measuredTimings: SimulatedTimings?

    /// A service as a replica installs it: its name, start type and whether it runs.
    public struct ServiceShape: Sendable, Equatable {
        public var name: String
        public var startType: ServiceStartType
        public var running: Bool

        public init(name: String, startType: ServiceStartType, running: Bool) {
            self.name = name
            self.startType = startType
            self.running = running
        }
    }

    /// Where the services the simulator knows run from (the documented install layout); others
    /// get a program of their own name under the install folder.
    static func binary(of service: String) -> (path: String, display: String, type: Int) {
        let install = installDirectory
        switch service.lowercased() {
        case "outsystems log service": return (install + #"\LogServer.exe"#, service, 0x10)
        case "outsystems deployment controller service": return (install + #"\CompilerService\CompilerService.exe"#, service, 0x10)
        case "outsystems deployment service": return (install + #"\DeployService\DeployService.exe"#, service, 0x10)
        case "outsystems scheduler service": return (install + #"\Scheduler\Scheduler.exe"#, service, 0x10)
        case "w3svc": return (#"C:\Windows\system32\svchost.exe -k iissvcs"#, "World Wide Web Publishing Service", 0x20)
        case "was": return (#"C:\Windows\system32\svchost.exe -k iissvcs"#, "Windows Process Activation Service", 0x20)
        case "rabbitmq": return (#""C:\Program Files\OutSystems\Platform Server\thirdparty\erl\erts\bin\erlsrv.exe""#, service, 0x10)
        default: return (install + "\\" + service.filter { $0.isLetter || $0.isNumber } + ".exe", service, 0x10)
        }
    }

    /// The DNS domain of the simulated servers (their FQDN is name.domain).
    public static let domain = "farm.test"
    /// The Redis password of a Redis-session farm, written in the connection string as the
    /// OutSystems guide shows (tests check it never leaves the server).
    public static let redisPassword = "R3dis-Access-Key-77"

    /// Maps a Windows path to this server's folder, as the agent does with OSFARM_SIM_ROOT.
    public static func localPath(_ windowsPath: String, serverDirectory: String) -> String {
        var path = windowsPath.replacingOccurrences(of: "\\", with: "/")
        if path.count >= 2, path[path.index(after: path.startIndex)] == ":" { path = "/" + path.prefix(1).uppercased() + path.dropFirst(2) }
        return serverDirectory + path
    }

    public func build(in serverDirectory: String) throws {
        let manager = FileManager.default
        func local(_ path: String) -> String { Self.localPath(path, serverDirectory: serverDirectory) }
        func write(_ text: String, _ path: String) throws {
            try manager.createDirectory(atPath: (local(path) as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: local(path), atomically: true, encoding: .utf8)
        }
        let install = Self.installDirectory
        try write(hsconf(), install + #"\server.hsconf"#)
        try write(privateKey, install + #"\private.key"#)
        try write("", #"C:\Windows\Temp\ConfigurationTool.log"#)
        try write(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<configuration>\r\n  <configSections />\r\n</configuration>\r\n",
            #"C:\Windows\Microsoft.NET\Framework64\v4.0.30319\Config\machine.config"#)
        try manager.createDirectory(atPath: local(#"C:\ProgramData\ssh"#), withIntermediateDirectories: true)
        try manager.createDirectory(atPath: local(#"C:\Users\Administrator"#), withIntermediateDirectories: true)
        // The shells exist as files (cmd.exe's quote rule asks whether a quoted name is an
        // executable file); Win32-OpenSSH's emulated session stands in for running them.
        for shell in DefaultShell.allCases { try write("", shell.path) }
        if let agentBinary {
            let target = local(WindowsAgentInstall.path)
            try manager.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try? manager.removeItem(atPath: target)
            if copyAgent {
                try manager.copyItem(atPath: agentBinary, toPath: target)
            } else {
                try manager.createSymbolicLink(atPath: target, withDestinationPath: agentBinary)
            }
        }
        var hostsFile = "# Copyright (c) 1993-2009 Microsoft Corp.\r\n#\r\n# This is a sample HOSTS file used by Microsoft TCP/IP for Windows.\r\n#\r\n"
        // On a real server "localhost" is the server itself (Windows resolves it without the file).
        // Simulated servers share one machine, so each one's file maps it to its own address.
        hostsFile += "\(address)\tlocalhost\r\n"
        for entry in hosts { hostsFile += "\(entry.address)\t\(entry.name)\r\n" }
        try write(hostsFile, WindowsHostsFile.path)
        for program in [
            #"C:\Windows\System32\sc.exe"#, #"C:\Windows\System32\iisreset.exe"#, #"C:\Windows\System32\reg.exe"#,
            #"C:\Windows\System32\taskkill.exe"#, install + #"\ConfigurationTool.com"#, DefaultShell.powerShell.path,
        ] {
            try manager.createDirectory(atPath: (local(program) as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try? manager.removeItem(atPath: local(program))
            try manager.createSymbolicLink(atPath: local(program), withDestinationPath: emulatorBinary)
        }
        try StateStore(serverDirectory: serverDirectory).save(initialState())
        try Self.writeApplicationHost(serverDirectory: serverDirectory, port: applicationServerPort, hostBinding: nil)
    }

    /// IIS's applicationHost.config with the OutSystems site's bindings (IIS configuration
    /// reference, `<sites>`/`<bindings>`: `bindingInformation` is IP:port:host name): HTTP on the
    /// server's port, for every host name unless `hostBinding` names one, and HTTPS on 443.
    static func writeApplicationHost(serverDirectory: String, port: Int, hostBinding: String?) throws {
        let path = localPath(IISBinding.configurationPath, serverDirectory: serverDirectory)
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let text = """
            <?xml version="1.0" encoding="UTF-8"?>\r
            <configuration>\r
              <system.applicationHost>\r
                <sites>\r
                  <site name="Default Web Site" id="1" serverAutoStart="true">\r
                    <bindings>\r
                      <binding protocol="http" bindingInformation="*:\(port):\(XMLText.escape(hostBinding ?? ""))" />\r
                      <binding protocol="https" bindingInformation="*:443:" />\r
                    </bindings>\r
                  </site>\r
                </sites>\r
              </system.applicationHost>\r
            </configuration>\r

            """
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    func initialState() -> ServerState {
        let now = Date().timeIntervalSince1970
        var nextPID = 1200 + Int.random(in: 0..<200) * 4
        func service(
            _ name: String, display: String? = nil, type: Int = 0x10, binary: String, start: ServiceStartType,
            running: Bool? = nil
        ) -> SimulatedService {
            let running = running ?? (start != .disabled)
            defer { if running { nextPID += 4 } }
            return SimulatedService(
                name: name, displayName: display ?? name, type: type, binaryPath: binary, startType: start,
                state: running ? .running : .stopped, processID: running ? nextPID : nil, pendingUntil: nil,
                runningSince: running ? now - 3600 : nil, initialised: false)
        }
        let install = Self.installDirectory
        var services: [SimulatedService] = []
        if let serviceShapes {
            services = serviceShapes.map { shape in
                let program = Self.binary(of: shape.name)
                return service(
                    shape.name, display: program.display, type: program.type, binary: program.path, start: shape.startType, running: shape.running)
            }
        } else {
            if hasLogService {
                services.append(service("OutSystems Log Service", binary: install + #"\LogServer.exe"#, start: .automatic))
            }
            services += [
                service(
                    "OutSystems Deployment Controller Service", binary: install + #"\CompilerService\CompilerService.exe"#,
                    start: role == .deploymentController ? .automatic : frontEndControllerService, running: role == .deploymentController),
                service("OutSystems Deployment Service", binary: install + #"\DeployService\DeployService.exe"#, start: .automatic),
                service("OutSystems Scheduler Service", binary: install + #"\Scheduler\Scheduler.exe"#, start: .automatic),
                service(
                    "W3SVC", display: "World Wide Web Publishing Service", type: 0x20, binary: #"C:\Windows\system32\svchost.exe -k iissvcs"#,
                    start: .automatic),
                service(
                    "WAS", display: "Windows Process Activation Service", type: 0x20, binary: #"C:\Windows\system32\svchost.exe -k iissvcs"#,
                    start: .manual),
            ]
            if role == .deploymentController {
                services.append(
                    service("RabbitMQ", binary: #""C:\Program Files\OutSystems\Platform Server\thirdparty\erl\erts\bin\erlsrv.exe""#, start: .automatic))
            }
        }
        var registry: [String: [ServerState.RegistryValue]] = [
            #"HKEY_LOCAL_MACHINE\SOFTWARE\OutSystems\Installer\Server"#: [
                .init(name: "(Default)", type: "REG_SZ", data: install),
                .init(name: "Server", type: "REG_SZ", data: installedVersion),
            ],
            #"HKEY_LOCAL_MACHINE\SOFTWARE\OutSystems\Platform Server"#: [
                .init(name: "MachineName", type: "REG_SZ", data: name.uppercased()),
                .init(name: "SerialNumber", type: "REG_SZ", data: "SIM-\(name.uppercased())-0001"),
            ],
            #"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\InetStp"#: [
                .init(name: "MajorVersion", type: "REG_DWORD", data: "0xa"),
                .init(name: "MinorVersion", type: "REG_DWORD", data: "0x0"),
            ],
        ]
        // The TCP/IP stack's names of the computer (Windows TCP/IP registry reference).
        registry[#"HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters"#] = [
            .init(name: "Hostname", type: "REG_SZ", data: name),
            .init(name: "NV Hostname", type: "REG_SZ", data: name),
            .init(name: "Domain", type: "REG_SZ", data: Self.domain),
            .init(name: "DataBasePath", type: "REG_EXPAND_SZ", data: #"%SystemRoot%\System32\drivers\etc"#),
        ]
        // Each service's key, where its ImagePath names the program it runs (quoted when it has spaces).
        for service in services {
            let path = service.binaryPath
            let imagePath = path.hasPrefix("\"") || !path.contains(" ") || path.lowercased().contains("svchost.exe -k") ? path : "\"\(path)\""
            registry[#"HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\"# + service.name] = [
                .init(name: "DisplayName", type: "REG_SZ", data: service.displayName),
                .init(name: "ImagePath", type: "REG_EXPAND_SZ", data: imagePath),
            ]
        }
        if services.contains(where: { $0.name == "RabbitMQ" }) {
            registry[#"HKEY_LOCAL_MACHINE\SOFTWARE\Ericsson\Erlang\ErlSrv\1.1\RabbitMQ"#] = [
                .init(name: "Machine", type: "REG_SZ", data: #"C:\Program Files\OutSystems\Platform Server\thirdparty\erl\bin\erl.exe"#)
            ]
        }
        // Where Windows keeps the code pages and the install language (`osfarm inspect` reads them).
        registry[#"HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\Nls\CodePage"#] = [
            .init(name: "OEMCP", type: "REG_SZ", data: String(language.oemCodePage))
        ]
        registry[#"HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\Nls\Language"#] = [
            .init(name: "Default", type: "REG_SZ", data: language.lcid), .init(name: "InstallLanguage", type: "REG_SZ", data: language.lcid),
        ]
        if defaultShell != .commandPrompt {
            registry[DefaultShell.registryKey] = [.init(name: DefaultShell.registryValue, type: "REG_SZ", data: defaultShell.path)]
        }
        return ServerState(
            name: name, role: role, address: address, profile: profile, services: services, registry: registry,
            faults: InjectedFaults(), lastConfigurationTool: nil, nextProcessID: nextPID, language: language,
            measuredTimings: measuredTimings)
    }

    /// A server.hsconf with every section of a SQL Server farm, comments, an escaped `&amp;` and
    /// encrypted (or clear-text) passwords.
    private var authenticationMode: String { windowsAuthentication ? "Windows Authentication" : "Database Authentication" }

    func hsconf() -> String {
        let key = HsconfCipher.keyBytes(privateKeyFile: privateKey) ?? []
        func password(_ element: String, _ clear: String) -> String {
            clearTextPasswords
                ? "<\(element)>\(XMLText.escape(clear))</\(element)>" : "<\(element) encrypted=\"true\">\(HsconfCipher.encrypt(clear, key: key))</\(element)>"
        }
        // SQL Server sections name their server; Oracle ones their listener (server.hsconf reference).
        func location(_ server: String, naming: String, unicode: Bool = true) -> String {
            guard oracle else {
                return (unicode ? "<Unicode>True</Unicode>\r\n    " : "")
                    + "<UsedAuthenticationMode>\(authenticationMode)</UsedAuthenticationMode>\r\n    <Server>\(server)</Server>"
            }
            let host = server.split(separator: ",").first.map(String.init) ?? server
            return
                "<\(naming)>Service Name</\(naming)>\r\n    <Host>\(host)</Host>\r\n    <Port>\(SimulatedLayout.oraclePort)</Port>\r\n    <ServiceName>OUTSYS</ServiceName>"
        }
        let provider = oracle ? "Oracle" : "SqlServer"
        let redis =
            redisSessions
            ? """
              <!-- Sessions in Redis (OutSystems 11.11+): the session database section is kept but unused. -->\r
              <InMemorySessionConfiguration ProviderKey="Redis">\r
                <ConnectionString encrypted="false">redis.farm.test:6379,password=\(Self.redisPassword)</ConnectionString>\r
              </InMemorySessionConfiguration>\r

            """ : ""
        return """
            <?xml version="1.0" encoding="utf-8"?>\r
            <!-- Generated by the OutSystems Configuration Tool. Keep identical on every server, except the Scheduler tab. -->\r
            <EnvironmentConfiguration>\r
              <PlatformDatabaseConfiguration ProviderKey="\(provider)">\r
                \(location(databaseServer, naming: "NamingType"))\r
                <Catalog>\(XMLText.escape(catalogs[.platform] ?? "outsystems"))</Catalog>\r
                <AdminUser>OSADMIN</AdminUser>\r
                \(password("AdminPassword", "Adm1n&Platform"))\r
                <RuntimeUser>OSRUNTIME</RuntimeUser>\r
                \(password("RuntimePassword", "Run<time>Pass"))\r
                <RuntimeAdvancedSettings>Max Pool Size=100;Application Name=OutSystems &amp; Friends</RuntimeAdvancedSettings>\r
                <ServicesAdvancedSettings></ServicesAdvancedSettings>\r
              </PlatformDatabaseConfiguration>\r
              <!-- Logs share the platform server; a separate catalog keeps them apart. -->\r
              <LoggingDatabaseConfiguration ProviderKey="\(provider)">\r
                \(location(loggingServer ?? databaseServer, naming: "NamingType"))\r
                <Catalog>\(XMLText.escape(catalogs[.logging] ?? "outsystems_log"))</Catalog>\r
                <AdminUser>OSADMIN_LOG</AdminUser>\r
                \(password("AdminPassword", "LogAdm1n"))\r
                <RuntimeUser>OSRUNTIME_LOG</RuntimeUser>\r
                \(password("RuntimePassword", "LogRunt1me"))\r
                <RuntimeAdvancedSettings />\r
              </LoggingDatabaseConfiguration>\r
              <SessionDatabaseConfiguration ProviderKey="\(provider)">\r
                \(location(sessionServer ?? databaseServer, naming: "IdType", unicode: false))\r
                <Catalog>\(XMLText.escape(catalogs[.session] ?? "osSession"))</Catalog>\r
                <SessionUser>OSSTATE</SessionUser>\r
                \(password("SessionPassword", "S3ssion"))\r
                <SessionAdvancedSettings></SessionAdvancedSettings>\r
                <DeleteExpiredSessionsAvoidLockRowCount>500</DeleteExpiredSessionsAvoidLockRowCount>\r
              </SessionDatabaseConfiguration>\r
            \(redis)  <ServiceConfiguration>\r
                <CompilerServerHostname>\(controllerAddress)</CompilerServerHostname>\r
                <CompilerServerPort>12000</CompilerServerPort>\r
                <DeploymentServerPort>12001</DeploymentServerPort>\r
                <SchedulerServerPort>12002</SchedulerServerPort>\r
                <SupportAsynchronousLog>True</SupportAsynchronousLog>\r
                <ServiceInitializationTimeoutInSeconds>180</ServiceInitializationTimeoutInSeconds>\r
              </ServiceConfiguration>\r
              <ServerConfiguration>\r
                <ApplicationServerPort>\(applicationServerPort)</ApplicationServerPort>\r
                <ApplicationServerSecurePort>443</ApplicationServerSecurePort>\r
                <MaxConcurrentTimers>3</MaxConcurrentTimers>\r
                <WeeksToKeep>4</WeeksToKeep>\r
              </ServerConfiguration>\r
              <NetworkConfiguration>\r
                <ApplicationServerVersion>IIS 10.0</ApplicationServerVersion>\r
                <OutgoingIPAddress></OutgoingIPAddress>\r
                <ServerKind>\(role == .deploymentController ? "DeploymentController" : "FrontEnd")</ServerKind>\r
              </NetworkConfiguration>\r
              <CacheInvalidationConfiguration>\r
                <ServiceHost>\(controllerAddress)</ServiceHost>\r
                <ServicePort>5672</ServicePort>\r
                <ServiceUsername>outsystems</ServiceUsername>\r
                \(password("ServicePassword", "Rabb1t"))\r
                <VirtualHost>/OutSystems</VirtualHost>\r
                <TlsEnabled>False</TlsEnabled>\r
              </CacheInvalidationConfiguration>\r
              <OtherConfigurations>\r
                <DBTimeout>30</DBTimeout>\r
                <DBUpdateTimeout>600</DBUpdateTimeout>\r
                <InstallationDir>\(Self.installDirectory)</InstallationDir>\r
                <PlatformVersion>\(installedVersion)</PlatformVersion>\r
              </OtherConfigurations>\r
            </EnvironmentConfiguration>\r

            """
    }
}
