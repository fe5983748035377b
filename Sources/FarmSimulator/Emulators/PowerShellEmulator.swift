import FarmProtocol
import Foundation

/// `powershell.exe -NoProfile -NonInteractive -EncodedCommand <script>` started as a program (not
/// as an SSH session's shell, which PowerShellHost emulates): the only scripts it runs are osfarm's
/// HTTPS GetPlatformInfo call (deploy/windows/Get-OsfarmPlatformInfo.ps1, HttpWebRequestEmulator)
/// and its login check (deploy/windows/Test-OsfarmLogins.ps1), each known by its first line; the
/// login check does what that script does with System.Data.SqlClient, answering from the simulated
/// SQL Servers:
/// - `-EncodedCommand` is base64 of the script's UTF-16LE text ("about_PowerShell_exe");
/// - SqlException.Number and .Message as SqlClient gives them (SimulatedSecurity, SimulatedSQLLogin);
/// - Integrated Security in a session without network credentials is NT AUTHORITY\ANONYMOUS LOGON.
struct PowerShellEmulator {
    static let loginCheckMarker = "# osfarm-login-check 1"
    static let platformInfoMarker = "# osfarm-platform-info 1"

    let serverDirectory: String

    struct Input: Decodable {
        struct Check: Decodable {
            var id: String
            var server: String
            var catalog: String
            var integrated: Bool
            var user: String
            var password: String
            var roles: [String]
        }
        var timeoutSeconds: Double
        var checks: [Check]
    }

    /// Where the simulator records how powershell.exe was started (tests look for secrets in it).
    static let argvLog = "powershell-argv.log"

    func run(_ arguments: [String], input: Data, out: (String) -> Void) -> Int32 {
        if let handle = FileHandle(forWritingAtPath: serverDirectory + "/" + Self.argvLog)
            ?? (FileManager.default.createFile(atPath: serverDirectory + "/" + Self.argvLog, contents: nil)
                ? FileHandle(forWritingAtPath: serverDirectory + "/" + Self.argvLog) : nil)
        {
            _ = try? handle.seekToEnd()
            try? handle.write(contentsOf: Data((["powershell.exe"] + arguments).joined(separator: " ").appending("\n").utf8))
            try? handle.close()
        }
        var encoded: String?
        var index = 0
        while index < arguments.count {
            let name = arguments[index].lowercased()
            switch name {
            case "-noprofile", "-noninteractive": index += 1
            case "-executionpolicy":
                index += 2
            case "-encodedcommand", "-enc", "-e":
                encoded = index + 1 < arguments.count ? arguments[index + 1] : nil
                index += 2
            default:
                out("osfarm-sim: powershell.exe \(arguments[index]) is not simulated\r\n")
                return 1
            }
        }
        guard let encoded, let bytes = Data(base64Encoded: encoded), bytes.count % 2 == 0 else {
            out("Cannot process the command because the value specified with -EncodedCommand is not properly encoded.\r\n")
            return 1
        }
        let units = stride(from: 0, to: bytes.count, by: 2).map { UInt16(bytes[$0]) | UInt16(bytes[$0 + 1]) << 8 }
        let script = String(decoding: units, as: UTF16.self)
        if script.hasPrefix(Self.platformInfoMarker) { return HttpWebRequestEmulator(serverDirectory: serverDirectory).run(input, out: out) }
        guard script.hasPrefix(Self.loginCheckMarker) else {
            out("osfarm-sim: powershell.exe here runs only osfarm's login check and HTTPS platform info scripts\r\n")
            return 1
        }
        guard let request = try? JSONDecoder().decode(Input.self, from: input) else {
            out("ConvertFrom-Json : Invalid JSON primitive.\r\n")
            return 1
        }
        let hsconfPath = ServerBuilder.localPath(ServerBuilder.installDirectory + #"\server.hsconf"#, serverDirectory: serverDirectory)
        let hsconf = (try? String(contentsOfFile: hsconfPath, encoding: .utf8)).flatMap { try? SimulatedHsconf(text: $0) }
        let identity = SimulatedSQLLogin.sessionIdentity(serverDirectory: serverDirectory, hsconf: hsconf)
        // WindowsIdentity.GetCurrent().Name: the session's account whether or not it has network credentials.
        Self.line(["identity": identity ?? (hsconf?.value(DatabaseSection.platform.elementName, "AdminUser") ?? "osfarm")], out)
        var answers: [String: SimulatedSecurity.Answer] = [:]
        for check in request.checks {
            let credentials: SimulatedSQLLogin.Credentials = check.integrated ? .windows(identity: identity) : .sql(user: check.user, password: check.password)
            let answer = SimulatedSQLLogin.login(
                server: check.server, catalog: check.catalog, credentials: credentials, serverDirectory: serverDirectory,
                timeout: min(request.timeoutSeconds, 15))
            answers[check.id] = answer
            switch answer {
            case let .loggedIn(login, user, catalog):
                let security = SimulatedSQLLogin.security(server: check.server, serverDirectory: serverDirectory)
                let roles = (check.roles + ["db_owner"]).filter { user.roles.contains($0) }
                Self.line(
                    [
                        "id": check.id, "ok": true, "login": login.name, "roles": roles, "defaultDatabase": login.defaultDatabase,
                        "defaultDatabaseExists": security?.defaultDatabaseExists(login) ?? true,
                    ], out)
                _ = catalog
            case let .failed(number, _, message):
                Self.line(["id": check.id, "ok": false, "number": number, "message": message], out)
            }
        }
        for check in request.checks where !check.integrated {
            guard case .failed = answers[check.id] else { continue }
            guard
                let helper = request.checks.first(where: {
                    if case .loggedIn = answers[$0.id] { return $0.server == check.server && $0.catalog == check.catalog }
                    return false
                }), case let .loggedIn(helperLogin, _, _) = answers[helper.id],
                let security = SimulatedSQLLogin.security(server: check.server, serverDirectory: serverDirectory)
            else { continue }
            // Without VIEW ANY DEFINITION a login sees only itself in sys.server_principals.
            let visible = helperLogin.viewAnyDefinition ? security.login(named: check.user) : nil
            Self.line(
                [
                    "id": check.id, "refined": true, "canSeeLogins": helperLogin.viewAnyDefinition, "loginExists": visible != nil,
                    "loginDisabled": visible.map { !$0.enabled } ?? false,
                    "userExists": security.catalog(named: check.catalog)?.users.contains { $0.name.caseInsensitiveCompare(check.user) == .orderedSame }
                        ?? false,
                ], out)
        }
        return 0
    }

    /// One line of ConvertTo-Json -Compress output, non-ASCII escaped as the script does.
    static func line(_ object: [String: Any], _ out: (String) -> Void) {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        var text = ""
        for scalar in String(decoding: data, as: UTF8.self).unicodeScalars {
            if scalar.isASCII {
                text.unicodeScalars.append(scalar)
            } else {
                for unit in String(scalar).utf16 { text += String(format: "\\u%04x", unit) }
            }
        }
        out(text + "\r\n")
    }
}
