import Foundation

/// The Windows programs the simulator stands in for. osfarm-sim acts as one of them when started
/// under its name (each simulated server links the names to the osfarm-sim binary), and finds its
/// server from the path it was started by.
public enum EmulatedProgram: String, CaseIterable, Sendable {
    case serviceControl = "sc.exe"
    case iisReset = "iisreset.exe"
    case registry = "reg.exe"
    case configurationTool = "ConfigurationTool.com"
    case taskKill = "taskkill.exe"
    case powerShell = "powershell.exe"

    /// The program `argv0` names, if it is an emulated one.
    public static func named(_ argv0: String) -> EmulatedProgram? {
        let base = argv0.split(separator: "/").last.map(String.init) ?? argv0
        return allCases.first { WindowsName.same($0.rawValue, base) }
    }

    /// Runs the emulation; returns the exit code. Output goes to `write` as the real program sends
    /// it down a pipe: CRLF line ends, encoded in the server's OEM code page. `input` is what the
    /// program reads on stdin (nil: this process's stdin, as when started under the program's name).
    public func run(argv0: String, arguments: [String], input: Data? = nil, write: @escaping (Data) -> Void) -> Int32 {
        guard let server = Self.serverDirectory(of: argv0) else {
            write(Data("osfarm-sim: \(rawValue) must be started from inside a simulated server's C: tree\r\n".utf8))
            return 1
        }
        let store = StateStore(serverDirectory: server)
        var codePage = DisplayLanguage.english.oemCodePage
        let out: (String) -> Void = { write(OEMEncoding.encode($0, codePage: codePage)) }
        do {
            let language = try store.read().language
            codePage = language.oemCodePage
            let text = ToolText.of(language)
            switch self {
            case .serviceControl: return try ServiceControlEmulator(store: store, text: text).run(arguments, out: out)
            case .iisReset: return try IISResetEmulator(store: store, text: text).run(arguments, out: out)
            case .registry: return try RegistryEmulator(store: store, text: text).run(arguments, out: out)
            case .configurationTool: return try ConfigurationToolEmulator(store: store, serverDirectory: server).run(arguments, out: out)
            case .taskKill: return try TaskKillEmulator(store: store).run(arguments, out: out)
            case .powerShell:
                return PowerShellEmulator(serverDirectory: server).run(arguments, input: input ?? FileHandle.standardInput.readDataToEndOfFile(), out: out)
            }
        } catch {
            out("osfarm-sim: \(rawValue): \(error)\r\n")
            return 1
        }
    }

    /// The simulated server folder above a program path: the nearest folder holding state.json.
    /// Walked on the path's components (`.` and `..` taken out as URL.standardized does): URL and
    /// NSString cost a twentieth of every emulated program's start.
    static func serverDirectory(of argv0: String) -> String? {
        let absolute = argv0.hasPrefix("/") ? argv0 : FileManager.default.currentDirectoryPath + "/" + argv0
        var parts: [String] = []
        for part in absolute.split(separator: "/") where part != "." {
            if part == ".." { _ = parts.popLast() } else { parts.append(String(part)) }
        }
        _ = parts.popLast()  // the program itself
        while !parts.isEmpty {
            var directory = ""
            for part in parts { directory += "/" + part }
            if access(directory + "/state.json", F_OK) == 0 { return directory }
            parts.removeLast()
        }
        return nil
    }
}
