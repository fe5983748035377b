import Foundation

/// What a shell did with a session's command: started a program with a command line, or ended
/// by itself (a message on stderr or stdout and an exit code).
enum ShellOutcome: Equatable {
    case launch(program: String, commandLine: String)
    case finished(stdout: String, stderr: String, exitCode: Int32)
}

/// `cmd.exe /c <string>` as far as a session command needs it, following the rules `cmd /?`
/// states (Microsoft Learn, "cmd"):
/// - after /C the rest of the line is the command; its quotes are kept only when there is no /S,
///   exactly two quotes, none of `&<>()@^|` between them, whitespace between them, and the text
///   between them names an executable file; otherwise a leading quote is removed with the last
///   quote of the line;
/// - `%NAME%` is replaced by the variable's value (an undefined one stays as written);
/// - outside quotes `^` escapes the next character; the command name ends at the first blank
///   outside quotes, so an unquoted `C:\Program Files\…` names `C:\Program`;
/// - a name with a folder is looked up there, a bare one in the current folder and then PATH,
///   each with the PATHEXT extensions;
/// - a name that is not found prints, on stderr, "'NAME' is not recognized as an internal or
///   external command, operable program or batch file." over two lines (seen verbatim in
///   cmderdev/cmder#1154) and exits 1 (nodejs/node#36855: the exit status of `cmd /c` for a
///   missing command is 1, though %ERRORLEVEL% inside cmd is 9009).
/// Chaining, pipes and redirection (`& | < >`) and cmd's internal commands are not emulated: the
/// simulator says so instead of guessing.
enum CommandPrompt {
    static let special: Set<Character> = ["&", "<", ">", "(", ")", "@", "^", "|"]
    static let internalCommands: Set<String> = [
        "assoc", "break", "call", "cd", "chdir", "cls", "color", "copy", "date", "del", "dir", "echo", "endlocal", "erase", "exit",
        "for", "ftype", "goto", "if", "md", "mkdir", "mklink", "move", "path", "pause", "popd", "prompt", "pushd", "rd", "rem", "ren",
        "rename", "rmdir", "set", "setlocal", "shift", "start", "time", "title", "type", "ver", "verify", "vol",
    ]

    /// Runs cmd.exe's full command line (`"C:\Windows\system32\cmd.exe" /c "…"`).
    static func run(commandLine: String, system: WindowsSystem, text: ToolText) -> ShellOutcome {
        guard let (afterSwitch, strip) = remainder(commandLine) else {
            return .finished(stdout: "", stderr: "osfarm-sim: cmd.exe without /c is not simulated (an interactive shell)\r\n", exitCode: 1)
        }
        var line = afterSwitch.drop { $0 == " " || $0 == "\t" }.description
        let quoteCount = line.filter { $0 == "\"" }.count
        var keepQuotes = false
        if !strip && quoteCount == 2, let open = line.firstIndex(of: "\""), let close = line.lastIndex(of: "\""), open < close {
            let between = String(line[line.index(after: open)..<close])
            keepQuotes =
                !between.contains(where: special.contains) && between.contains(where: { $0 == " " || $0 == "\t" })
                && system.localFile(between) != nil
        }
        if !keepQuotes && line.first == "\"" {
            line.removeFirst()
            if let last = line.lastIndex(of: "\"") { line.remove(at: last) }
        }
        line = expandVariables(line, system: system)
        line = String(line.drop { $0 == " " || $0 == "\t" })
        if line.hasPrefix("@") { line = String(line.dropFirst()) }

        // Carets and the characters cmd.exe would act on, outside quotes.
        var processed = ""
        var quoted = false
        var iterator = line.makeIterator()
        while let c = iterator.next() {
            if c == "\"" { quoted.toggle(); processed.append(c); continue }
            if !quoted && c == "^" {
                if let next = iterator.next() { processed.append(next) }
                continue
            }
            if !quoted && ["&", "|", "<", ">"].contains(c) {
                return .finished(stdout: "", stderr: "osfarm-sim: cmd.exe chaining, pipes and redirection ('\(c)') are not simulated\r\n", exitCode: 1)
            }
            processed.append(c)
        }
        processed = processed.trimmingCharacters(in: .whitespaces)
        guard !processed.isEmpty else { return .finished(stdout: "", stderr: "", exitCode: 0) }

        // The command name: up to the first blank outside quotes.
        var token = ""
        quoted = false
        for c in processed {
            if c == "\"" { quoted.toggle() }
            if !quoted && (c == " " || c == "\t") { break }
            token.append(c)
        }
        let name = token.replacingOccurrences(of: "\"", with: "")
        if internalCommands.contains(name.lowercased()) {
            return .finished(stdout: "", stderr: "osfarm-sim: cmd.exe's internal command '\(name)' is not simulated\r\n", exitCode: 1)
        }
        guard let program = system.findProgram(name, searchCurrentDirectory: true) else {
            return .finished(stdout: "", stderr: ToolText.fill(text.notRecognized, token) + "\r\n", exitCode: 1)
        }
        return .launch(program: program, commandLine: processed)
    }

    /// The text after the /C (or /K) switch, and whether /S came before it.
    static func remainder(_ commandLine: String) -> (String, Bool)? {
        var rest = Substring(commandLine)
        // The program itself: a quoted path or one word.
        if rest.first == "\"" {
            rest = rest.dropFirst()
            rest = rest.drop { $0 != "\"" }.dropFirst()
        } else {
            rest = rest.drop { $0 != " " && $0 != "\t" }
        }
        var strip = false
        while true {
            rest = rest.drop { $0 == " " || $0 == "\t" }
            guard rest.first == "/" else { return nil }
            let option = rest.dropFirst().prefix { $0 != " " && $0 != "\t" && $0 != "/" && $0 != "\"" }
            let letter = option.prefix(1).lowercased()
            rest = rest.dropFirst(1 + option.count)
            if letter == "c" || letter == "k" { return (String(rest), strip) }
            if letter == "s" { strip = true }
        }
    }

    /// `%NAME%` replaced by the variable's value; an undefined name stays as written.
    static func expandVariables(_ line: String, system: WindowsSystem) -> String {
        var result = ""
        var rest = Substring(line)
        while let start = rest.firstIndex(of: "%") {
            result += rest[..<start]
            let after = rest[rest.index(after: start)...]
            guard let end = after.firstIndex(of: "%") else {
                result += rest[start...]
                return result
            }
            let name = String(after[..<end])
            if !name.isEmpty, let value = system.variable(name) {
                result += value
                rest = after[after.index(after: end)...]
            } else {
                result += "%" + name
                rest = after[end...]
            }
        }
        return result + rest
    }
}
