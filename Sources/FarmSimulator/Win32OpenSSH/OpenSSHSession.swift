import FarmProtocol
import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// A session on a simulated server run the way Win32-OpenSSH runs it
/// (PowerShell/openssh-portable `contrib/win32/win32compat/w32-doexec.c`, `do_exec_windows`):
/// - the command is the key's forced `command="…"` from
///   `C:\ProgramData\ssh\administrators_authorized_keys`, else the one the client asked for;
/// - it goes to the DefaultShell (`pwd.c`: `HKLM\SOFTWARE\OpenSSH` `DefaultShell`, else
///   `%SystemRoot%\System32\cmd.exe`), whose path is lower-cased and quoted, with the switch and
///   escaping the other `DefaultShell*` values choose (`ShellSettings`);
/// - the shell prints what its profiles or AutoRun print first (`ShellStartup`);
/// - for cmd.exe the whole command line is `"<shell>" /c "<command>"`, built as one string;
/// - for PowerShell it is `"<shell>" -c <command>` with the command escaped as one argument
///   (`misc.c`, `build_commandline_string`: quoted when it has a space, `"` becomes `\"`, and
///   backslashes before a quote are doubled);
/// - the program the shell starts splits its own command line (`CommandLineToArgvW`).
/// The real sshd on Linux forces `osfarm-sim win32-openssh-session --server DIR --key KEY` for
/// the farm's key (its own authorized_keys is the simulator's plumbing); this replays the above
/// with the Windows file in the server's C: tree and then executes the program the shell resolved
/// there.
public enum OpenSSHSession {
    public static let authorizedKeysPath = #"C:\ProgramData\ssh\administrators_authorized_keys"#

    public enum Failure: Error, CustomStringConvertible {
        case keyNotListed(String)
        case unreadableKeys(String)
        case cannotStart(String, String)

        public var description: String {
            switch self {
            case let .keyNotListed(key): return "the key \(key.prefix(24))… is not in \(authorizedKeysPath)"
            case let .unreadableKeys(reason): return "\(authorizedKeysPath): \(reason)"
            case let .cannotStart(program, reason): return "cannot start \(program): \(reason)"
            }
        }
    }

    /// `build_commandline_string`'s escaping of one argument: quotes added when it holds a space
    /// (unless it starts with a single quote), each `"` preceded by a backslash, and a run of
    /// backslashes doubled when a quote follows it.
    static func escapedArgument(_ argument: String) -> String {
        let addQuotes = argument.first != "'" && argument.contains(" ")
        var result = addQuotes ? "\"" : ""
        let characters = Array(argument)
        var index = 0
        while index < characters.count {
            let c = characters[index]
            if c == "\\" {
                var end = index
                while end < characters.count && characters[end] == "\\" { end += 1 }
                let count = end - index
                let beforeQuote = end < characters.count && characters[end] == "\""
                result += String(repeating: "\\", count: beforeQuote ? count * 2 : count)
                index = end
                continue
            }
            result += c == "\"" ? "\\\"" : String(c)
            index += 1
        }
        return result + (addQuotes ? "\"" : "")
    }

    /// What the session does for `command` on the server: what the shell printed on its own
    /// first (`ShellStartup`), and the shell's outcome.
    static func outcome(command: String, serverDirectory: String, state: ServerState) -> (startup: String, ShellOutcome) {
        let system = WindowsSystem(serverDirectory: serverDirectory)
        let settings = ShellSettings.read(state)
        let line = settings.commandLine(for: command)
        let startup = ShellStartup.output(settings: settings, commandLine: line, system: system, state: state)
        switch settings.kind {
        case .commandPrompt:
            return (startup, CommandPrompt.run(commandLine: line, system: system, text: ToolText.of(state.language)))
        case .powerShell:
            return (startup, PowerShellHost.run(commandLine: line, system: system))
        case .shellHost, .bash, .cygwin, .other:
            return (
                startup,
                .finished(stdout: "", stderr: "osfarm-sim: the DefaultShell \(settings.path) is not simulated (only cmd.exe and PowerShell)\r\n", exitCode: 1)
            )
        }
    }

    /// The forced command of the key that logged in (nil when its line forces none). Win32-OpenSSH
    /// refuses a key that is not in the file.
    static func forcedCommand(serverDirectory: String, key: String) throws -> String? {
        let path = ServerBuilder.localPath(authorizedKeysPath, serverDirectory: serverDirectory)
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw Failure.unreadableKeys("cannot read it") }
        for line in text.split(whereSeparator: \.isNewline) {
            let entry: AuthorizedKey?
            do {
                entry = try AuthorizedKey.parse(String(line))
            } catch {
                continue  // sshd skips a line it cannot parse too
            }
            if let entry, entry.key == key { return entry.forcedCommand }
        }
        throw Failure.keyNotListed(key)
    }

    /// Runs the session: writes what the shell printed and returns its exit code, or executes the
    /// program it started (and so does not return).
    public static func run(serverDirectory: String, key: String) -> Int32 {
        let environment = ProcessInfo.processInfo.environment
        do {
            let state = try StateStore(serverDirectory: serverDirectory).read()
            let command = try forcedCommand(serverDirectory: serverDirectory, key: key) ?? environment["SSH_ORIGINAL_COMMAND"]
            guard let command, !command.isEmpty else {
                FileHandle.standardError.write(Data("osfarm-sim: interactive shell sessions are not simulated; send a command\r\n".utf8))
                return 1
            }
            let (startup, shellOutcome) = outcome(command: command, serverDirectory: serverDirectory, state: state)
            if !startup.isEmpty { FileHandle.standardOutput.write(OEMEncoding.encode(startup, codePage: state.language.oemCodePage)) }
            switch shellOutcome {
            case let .finished(stdout, stderr, exitCode):
                FileHandle.standardOutput.write(OEMEncoding.encode(stdout, codePage: state.language.oemCodePage))
                FileHandle.standardError.write(OEMEncoding.encode(stderr, codePage: state.language.oemCodePage))
                return exitCode
            case let .launch(program, commandLine):
                try execute(program: program, commandLine: commandLine, serverDirectory: serverDirectory, state: state)
            }
        } catch {
            FileHandle.standardError.write(Data("osfarm-sim: win32-openssh-session: \(error)\r\n".utf8))
            return 1
        }
        return 1
    }

    /// Replaces this process with the program, its argv split from its command line as Windows
    /// programs split theirs, in the user's profile folder, with what tells the agent where its
    /// simulated server is.
    private static func execute(program: String, commandLine: String, serverDirectory: String, state: ServerState) throws -> Never {
        let system = WindowsSystem(serverDirectory: serverDirectory)
        guard let local = system.localFile(program) else { throw Failure.cannotStart(program, "not found") }
        guard FileManager.default.isExecutableFile(atPath: local), (try? FileManager.default.attributesOfItem(atPath: local)[.size] as? Int) ?? 1 != 0 else {
            throw Failure.cannotStart(program, "the simulator does not run this program")
        }
        var environment = ProcessInfo.processInfo.environment
        environment["OSFARM_SIM_ROOT"] = serverDirectory
        environment["OSFARM_SIM_ADDRESS"] = state.address
        environment["OSFARM_SIM_CODEPAGE"] = String(state.language.oemCodePage)
        let arguments = [local] + WindowsCommandLine.split(commandLine).dropFirst()
        if let profile = system.localFolder(system.currentDirectory) { _ = chdir(profile) }
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        execve(local, argv, envp)
        throw Failure.cannotStart(program, String(cString: strerror(errno)))
    }
}

extension WindowsSystem {
    /// The local folder a Windows folder path names.
    func localFolder(_ windowsPath: String) -> String? {
        let path = ServerBuilder.localPath(absolute(windowsPath), serverDirectory: serverDirectory)
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue ? path : nil
    }
}
