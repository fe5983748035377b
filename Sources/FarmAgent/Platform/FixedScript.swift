import Foundation

/// How the agent starts one of its fixed, embedded PowerShell scripts (the login check, the HTTPS
/// call to Service Center): Windows PowerShell 5.1 without profiles or prompts, the script as
/// `-EncodedCommand`, base64 of its UTF-16LE text ("about_PowerShell_exe"): the fixed script,
/// never data, and no quoting for a shell to get wrong. Its input goes on stdin.
enum FixedScript {
    static let powerShell = WindowsLocations.system32 + #"\WindowsPowerShell\v1.0\powershell.exe"#

    static func arguments(_ script: String) -> [String] {
        var utf16 = Data()
        for unit in script.utf16 { utf16.append(contentsOf: [UInt8(unit & 0xFF), UInt8(unit >> 8)]) }
        return ["-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-EncodedCommand", utf16.base64EncodedString()]
    }
}
