import FarmProtocol
import Foundation
#if os(Windows)
    import WinSDK
#endif

/// Where the agent's Windows paths and "this machine's" address really are.
///
/// On Windows both are what they say. On Linux the agent only ever runs inside the simulator
/// (osfarm-sim), which gives each simulated server its own C: tree (`OSFARM_SIM_ROOT`) and loopback
/// address (`OSFARM_SIM_ADDRESS`) through the server's authorized_keys. Every other line of the
/// agent is the same on both.
public struct HostEnvironment: Sendable {
    /// The folder that stands for the root of drive letters ("" on Windows).
    public let root: String
    /// The address this server's own services listen on.
    public let localAddress: String
    /// The code page console programs (sc.exe, reg.exe, iisreset.exe) write in: the OEM code page
    /// of the server's language (437 on an English server, 850 German, 936 Chinese…).
    public let consoleCodePage: Int

    public init(root: String, localAddress: String, consoleCodePage: Int = 437) {
        self.root = root
        self.localAddress = localAddress
        self.consoleCodePage = consoleCodePage
    }

    public static func current() -> HostEnvironment {
        #if os(Windows)
            // The console's output code page when there is a console, otherwise the system's OEM one.
            let console = Int(GetConsoleOutputCP())
            return HostEnvironment(root: "", localAddress: "127.0.0.1", consoleCodePage: console != 0 ? console : Int(GetOEMCP()))
        #else
            let environment = ProcessInfo.processInfo.environment
            return HostEnvironment(
                root: environment["OSFARM_SIM_ROOT"] ?? "/nonexistent-windows-root",
                localAddress: environment["OSFARM_SIM_ADDRESS"] ?? "127.0.0.1",
                consoleCodePage: environment["OSFARM_SIM_CODEPAGE"].flatMap { Int($0) } ?? 437)
        #endif
    }

    /// The address to connect to for `host`. Windows' resolver reads the hosts file itself; on Linux
    /// (inside the simulator) the agent reads the simulated server's hosts file the same way, so a
    /// name can resolve differently on each simulated server as it can on real ones.
    public func resolve(_ host: String) -> String {
        #if os(Windows)
            return host
        #else
            guard let text = try? String(contentsOfFile: localPath(WindowsHostsFile.path), encoding: .utf8) else { return host }
            return WindowsHostsFile(text: text).address(of: host) ?? host
        #endif
    }

    /// The path to open for a Windows path such as `C:\Windows\System32\sc.exe`.
    public func localPath(_ windowsPath: String) -> String {
        #if os(Windows)
            return windowsPath
        #else
            // Separators swapped byte by byte: Foundation's replacingOccurrences goes through
            // NSString, whose first use was a tenth of a short agent session's CPU.
            var path = String(decoding: windowsPath.utf8.map { $0 == UInt8(ascii: "\\") ? UInt8(ascii: "/") : $0 }, as: UTF8.self)
            if path.count >= 2, path[path.index(after: path.startIndex)] == ":" {
                let drive = path.prefix(1).uppercased()
                path = "/" + drive + path.dropFirst(2)
            }
            return root + path
        #endif
    }
}

/// Where Windows keeps what the agent drives.
public enum WindowsLocations {
    public static let system32 = #"C:\Windows\System32"#
    public static let serviceControl = system32 + #"\sc.exe"#
    public static let iisReset = system32 + #"\iisreset.exe"#
    public static let registryTool = system32 + #"\reg.exe"#
    public static let configurationToolLog = #"C:\Windows\Temp\ConfigurationTool.log"#
    public static let machineConfig = #"C:\Windows\Microsoft.NET\Framework64\v4.0.30319\Config\machine.config"#
    /// Where osfarm keeps its backups on the server.
    public static let backupRoot = #"C:\ProgramData\osfarm\backups"#
    public static let installerKey = #"HKLM\SOFTWARE\OutSystems\Installer\Server"#
    public static let defaultInstallDirectory = #"C:\Program Files\OutSystems\Platform Server"#

    public static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("\\") ? directory + name : directory + "\\" + name
    }

    /// The last component of a Windows path.
    public static func fileName(_ path: String) -> String {
        String(path.split(separator: "\\").last ?? Substring(path))
    }
}
