import Foundation

/// What a session's shell sees of a simulated server: its files by Windows path (matched without
/// regard to letter case, as NTFS does), the current directory and the environment variables.
struct WindowsSystem {
    let serverDirectory: String
    var currentDirectory = #"C:\Users\Administrator"#
    /// Names compared without case, as Windows does.
    var environment: [String: String] = [
        "SystemRoot": #"C:\Windows"#, "windir": #"C:\Windows"#, "SystemDrive": "C:",
        "ProgramFiles": #"C:\Program Files"#, "ProgramData": #"C:\ProgramData"#, "ProgramW6432": #"C:\Program Files"#,
        "ComSpec": #"C:\Windows\system32\cmd.exe"#, "USERPROFILE": #"C:\Users\Administrator"#, "USERNAME": "Administrator",
        "PATH": #"C:\Windows\system32;C:\Windows;C:\Windows\System32\Wbem;C:\Windows\System32\WindowsPowerShell\v1.0\;C:\Windows\System32\OpenSSH\"#,
        "PATHEXT": ".COM;.EXE;.BAT;.CMD;.VBS;.VBE;.JS;.JSE;.WSF;.WSH;.MSC",
    ]

    init(serverDirectory: String) { self.serverDirectory = serverDirectory }

    func variable(_ name: String) -> String? {
        environment.first { WindowsName.same($0.key, name) }?.value
    }

    /// An absolute Windows path for `path` (drive-relative and relative paths from the current directory).
    func absolute(_ path: String) -> String {
        let path = path.replacingOccurrences(of: "/", with: "\\")
        if path.count >= 2, Array(path)[1] == ":" { return path }
        if path.hasPrefix("\\") { return "C:" + path }
        return currentDirectory + "\\" + path
    }

    /// The local file a Windows path names, matching each folder and file name without case; nil
    /// when nothing is there.
    func localFile(_ windowsPath: String) -> String? {
        let full = absolute(windowsPath)
        let components = full.split(separator: "\\", omittingEmptySubsequences: true).map(String.init)
        guard let drive = components.first, drive.count == 2, drive.hasSuffix(":") else { return nil }
        var local = serverDirectory + "/" + drive.prefix(1).uppercased()
        let manager = FileManager.default
        for component in components.dropFirst() {
            if component == "." { continue }
            if component == ".." { local = (local as NSString).deletingLastPathComponent; continue }
            guard let entries = try? manager.contentsOfDirectory(atPath: local),
                let match = entries.first(where: { $0 == component }) ?? entries.first(where: { WindowsName.same($0, component) })
            else { return nil }
            local += "/" + match
        }
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: local, isDirectory: &isDirectory), !isDirectory.boolValue else { return nil }
        return local
    }

    var pathExtensions: [String] {
        (variable("PATHEXT") ?? ".COM;.EXE").split(separator: ";").map { String($0).lowercased() }
    }

    /// A program as cmd.exe and PowerShell find it: a name with a folder is looked up there, a bare
    /// name in the current directory (cmd.exe only) and then each PATH folder; without one of the
    /// PATHEXT extensions, each is tried in turn. Returns the Windows path found.
    func findProgram(_ name: String, searchCurrentDirectory: Bool) -> String? {
        let lastComponent = name.split(whereSeparator: { $0 == "\\" || $0 == "/" }).last.map(String.init) ?? name
        let hasExtension = pathExtensions.contains { lastComponent.lowercased().hasSuffix($0) }
        func candidates(_ base: String) -> [String] {
            hasExtension ? [base] : pathExtensions.map { base + $0 }
        }
        let hasFolder = name.contains("\\") || name.contains("/") || name.contains(":")
        var folders: [String] = []
        if hasFolder {
            folders = [""]
        } else {
            if searchCurrentDirectory { folders.append(currentDirectory) }
            folders += (variable("PATH") ?? "").split(separator: ";").map(String.init).filter { !$0.isEmpty }
        }
        for folder in folders {
            let base = folder.isEmpty ? name : (folder.hasSuffix("\\") ? folder + name : folder + "\\" + name)
            for candidate in candidates(base) where localFile(candidate) != nil { return absolute(candidate) }
        }
        return nil
    }
}
