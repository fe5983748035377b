/// A database administrator login for the Configuration Tool. The password is a `Secret`.
public struct DatabaseCredentials: Codable, Sendable, Equatable {
    public var user: String
    public var password: Secret

    public init(user: String, password: Secret) {
        self.user = user
        self.password = password
    }
}

/// The Configuration Tool runs osfarm knows, each a typed mode: there are no free-form arguments.
///
/// On a farm whose databases use Windows (integrated) authentication the tool needs the platform
/// database administrator's password: after `/UpgradeInstall`, and through
/// `/WithWindowsAuthentication <pwd>` for `/InstallServiceCenter`, `/ApplySettingsFactory` and the
/// other switches whose reference entry says so (OutSystems 11 "Configuration Tool Command Line
/// Reference"). The agent builds that argv from the one password a mode carries.
public enum ConfigurationToolMode: Sendable, Equatable {
    /// `/UpgradeInstall [pwd]`: the password only for a farm on Windows (integrated) authentication;
    /// with `/InstallServiceCenter` it is given again through `/WithWindowsAuthentication`.
    case upgradeInstall(integratedAuthenticationPassword: Secret?)
    /// `/SetupInstall [u p [u p]]`.
    case setupInstall(platformAdmin: DatabaseCredentials?, loggingAdmin: DatabaseCredentials?)
    /// `/RebuildSession u p`.
    case rebuildSession(DatabaseCredentials)
    /// `/ApplySettingsFactory [/WithWindowsAuthentication pwd]`: restarts the OutSystems services of
    /// the server it runs on and, on the deployment controller, applies settings to the factory.
    case applySettingsFactory(integratedAuthenticationPassword: Secret?)
    /// `/GenerateTemplates`.
    case generateTemplates

    /// `/ApplySettingsFactory` on a farm on database authentication.
    public static var applySettingsFactory: ConfigurationToolMode { .applySettingsFactory(integratedAuthenticationPassword: nil) }

    /// The integrated-authentication password the mode carries, if any.
    public var integratedAuthenticationPassword: Secret? {
        switch self {
        case let .upgradeInstall(password), let .applySettingsFactory(password): return password
        case .setupInstall, .rebuildSession, .generateTemplates: return nil
        }
    }

    public var name: String {
        switch self {
        case .upgradeInstall: return "UpgradeInstall"
        case .setupInstall: return "SetupInstall"
        case .rebuildSession: return "RebuildSession"
        case .applySettingsFactory: return "ApplySettingsFactory"
        case .generateTemplates: return "GenerateTemplates"
        }
    }
}

extension ConfigurationToolMode: Codable {
    enum CodingKeys: String, CodingKey { case mode, password, platformAdmin, loggingAdmin, credentials }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(String.self, forKey: .mode) {
        case "UpgradeInstall": self = .upgradeInstall(integratedAuthenticationPassword: try container.decodeIfPresent(Secret.self, forKey: .password))
        case "SetupInstall":
            self = .setupInstall(
                platformAdmin: try container.decodeIfPresent(DatabaseCredentials.self, forKey: .platformAdmin),
                loggingAdmin: try container.decodeIfPresent(DatabaseCredentials.self, forKey: .loggingAdmin))
        case "RebuildSession": self = .rebuildSession(try container.decode(DatabaseCredentials.self, forKey: .credentials))
        case "ApplySettingsFactory":
            self = .applySettingsFactory(integratedAuthenticationPassword: try container.decodeIfPresent(Secret.self, forKey: .password))
        case "GenerateTemplates": self = .generateTemplates
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .mode, in: container, debugDescription: "unknown Configuration Tool mode \"\(other)\"")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .mode)
        switch self {
        case let .upgradeInstall(password), let .applySettingsFactory(password): try container.encodeIfPresent(password, forKey: .password)
        case let .setupInstall(platform, logging):
            try container.encodeIfPresent(platform, forKey: .platformAdmin)
            try container.encodeIfPresent(logging, forKey: .loggingAdmin)
        case let .rebuildSession(credentials): try container.encode(credentials, forKey: .credentials)
        case .generateTemplates: break
        }
    }
}

public struct ConfigurationToolArguments: Codable, Sendable, Equatable {
    /// How long the agent waits for a locked machine.config by default.
    public static let defaultMachineConfigWaitSeconds = 300.0

    public var mode: ConfigurationToolMode
    /// Add `/InstallServiceCenter` (Service Center installation after the tool finishes; needs IIS running).
    public var installServiceCenter: Bool
    public var timeoutSeconds: Double
    /// How long to wait while machine.config is locked by another process before giving up.
    public var machineConfigWaitSeconds: Double

    public init(
        mode: ConfigurationToolMode, installServiceCenter: Bool = false, timeoutSeconds: Double = 1800,
        machineConfigWaitSeconds: Double = ConfigurationToolArguments.defaultMachineConfigWaitSeconds
    ) {
        self.mode = mode
        self.installServiceCenter = installServiceCenter
        self.timeoutSeconds = timeoutSeconds
        self.machineConfigWaitSeconds = machineConfigWaitSeconds
    }
}

public struct ConfigurationToolRun: Codable, Sendable, Equatable {
    public var exitCode: Int32
    public var durationMilliseconds: Double
    /// The last lines the tool printed.
    public var outputTail: [String]
    /// The last lines of ConfigurationTool.log after the run.
    public var logTail: [String]

    public init(exitCode: Int32, durationMilliseconds: Double, outputTail: [String], logTail: [String]) {
        self.exitCode = exitCode
        self.durationMilliseconds = durationMilliseconds
        self.outputTail = outputTail
        self.logTail = logTail
    }
}
