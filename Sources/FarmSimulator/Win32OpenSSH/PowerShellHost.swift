import FarmProtocol
import Foundation

/// `powershell.exe -c <command>` as far as a session command needs it (Microsoft Learn,
/// "about_Parsing" and "about_Operators"):
/// - a line that starts with a bare word is in argument mode: the word names the command, and an
///   unquoted `C:\Program Files\…` is the command `C:\Program` with an argument `Files\…`;
/// - a line that starts with a quoted string is an expression: the string is a value, and a word
///   after it is a parser error ("Unexpected token"); a quoted path runs only behind the call
///   operator `&`;
/// - `'…'` is literal (`''` a quote), `"…"` expands `$env:NAME` and takes backtick escapes;
/// - a command not found is a CommandNotFoundException: "The term '…' is not recognized as the
///   name of a cmdlet, function, script file, or operable program…";
/// - `powershell -c` exits 1 when the last command failed, 0 otherwise ("about_PowerShell_exe").
/// Statements joined by `;` or `|` are not emulated.
enum PowerShellHost {
    enum Token: Equatable {
        case call
        case word(String)
        case string(String, raw: String)

        var value: String {
            switch self {
            case .call: return "&"
            case let .word(text), let .string(text, _): return text
            }
        }

        var raw: String {
            switch self {
            case .call: return "&"
            case let .word(text): return text
            case let .string(_, raw): return raw
            }
        }
    }

    static func run(commandLine: String, system: WindowsSystem) -> ShellOutcome {
        let arguments = WindowsCommandLine.split(commandLine)
        guard let commandIndex = arguments.firstIndex(where: { ["-c", "-command", "/c", "/command"].contains($0.lowercased()) }) else {
            return .finished(stdout: "", stderr: "osfarm-sim: powershell.exe without -Command is not simulated (an interactive shell)\r\n", exitCode: 1)
        }
        let script = arguments[(commandIndex + 1)...].joined(separator: " ")
        let tokens: [Token]
        do {
            tokens = try tokenize(script, system: system)
        } catch let message as Unsupported {
            return .finished(stdout: "", stderr: message.text, exitCode: 1)
        } catch {
            return .finished(stdout: "", stderr: "\(error)\r\n", exitCode: 1)
        }
        guard let first = tokens.first else { return .finished(stdout: "", stderr: "", exitCode: 0) }
        var command: Token
        var rest: ArraySlice<Token>
        switch first {
        case .call:
            guard tokens.count > 1 else {
                return parserError(script, column: script.count + 1, token: nil)
            }
            command = tokens[1]
            rest = tokens[2...]
        case .string:
            if tokens.count > 1 {
                let column = columnOf(tokens[1], in: script, after: first.raw)
                return parserError(script, column: column, token: tokens[1].raw)
            }
            return .finished(stdout: first.value + "\r\n", stderr: "", exitCode: 0)
        case .word:
            command = first
            rest = tokens[1...]
        }
        guard let program = system.findProgram(command.value, searchCurrentDirectory: false) else {
            let name = command.value
            let column = (script.range(of: command.raw).map { script.distance(from: script.startIndex, to: $0.lowerBound) } ?? 0) + 1
            let underline = String(repeating: " ", count: column - 1) + String(repeating: "~", count: max(1, command.raw.count))
            let message = [
                "\(name) : The term '\(name)' is not recognized as the name of a cmdlet, function, script file, or operable program. "
                    + "Check the spelling of the name, or if a path was included, verify that the path is correct and try again.",
                "At line:1 char:\(column)",
                "+ \(script)",
                "+ \(underline)",
                "    + CategoryInfo          : ObjectNotFound: (\(name):String) [], CommandNotFoundException",
                "    + FullyQualifiedErrorId : CommandNotFoundException",
                "",
            ]
            return .finished(stdout: "", stderr: message.joined(separator: "\r\n") + "\r\n", exitCode: 1)
        }
        return .launch(program: program, commandLine: WindowsCommandLine.join(program: program, rest.map(\.value)))
    }

    struct Unsupported: Error {
        let text: String
    }

    static func tokenize(_ script: String, system: WindowsSystem) throws -> [Token] {
        var tokens: [Token] = []
        let characters = Array(script)
        var index = 0
        while index < characters.count {
            let c = characters[index]
            if c == " " || c == "\t" { index += 1; continue }
            if c == ";" || c == "|" {
                throw Unsupported(text: "osfarm-sim: PowerShell statement separators and pipelines ('\(c)') are not simulated\r\n")
            }
            if c == "&" && (index + 1 == characters.count || [" ", "\t", "\"", "'"].contains(characters[index + 1])) {
                tokens.append(.call)
                index += 1
                continue
            }
            let start = index
            if c == "'" {
                var value = ""
                index += 1
                while index < characters.count {
                    if characters[index] == "'" {
                        if index + 1 < characters.count && characters[index + 1] == "'" { value.append("'"); index += 2; continue }
                        break
                    }
                    value.append(characters[index])
                    index += 1
                }
                index += 1
                tokens.append(.string(value, raw: String(characters[start..<min(index, characters.count)])))
                continue
            }
            if c == "\"" {
                var value = ""
                index += 1
                while index < characters.count {
                    let d = characters[index]
                    if d == "`" && index + 1 < characters.count {
                        let escaped = characters[index + 1]
                        value.append(escaped == "n" ? "\n" : escaped == "t" ? "\t" : escaped)
                        index += 2
                        continue
                    }
                    if d == "\"" {
                        if index + 1 < characters.count && characters[index + 1] == "\"" { value.append("\""); index += 2; continue }
                        break
                    }
                    if d == "$" {
                        let rest = String(characters[(index + 1)...])
                        if rest.lowercased().hasPrefix("env:") {
                            let name = String(rest.dropFirst(4).prefix { $0.isLetter || $0.isNumber || $0 == "_" })
                            value += system.variable(name) ?? ""
                            index += 1 + 4 + name.count
                            continue
                        }
                    }
                    value.append(d)
                    index += 1
                }
                index += 1
                tokens.append(.string(value, raw: String(characters[start..<min(index, characters.count)])))
                continue
            }
            var word = ""
            while index < characters.count && characters[index] != " " && characters[index] != "\t" {
                word.append(characters[index])
                index += 1
            }
            tokens.append(.word(word))
        }
        return tokens
    }

    private static func columnOf(_ token: Token, in script: String, after firstRaw: String) -> Int {
        guard let head = script.range(of: firstRaw), let range = script.range(of: token.raw, range: head.upperBound..<script.endIndex) else { return 1 }
        return script.distance(from: script.startIndex, to: range.lowerBound) + 1
    }

    private static func parserError(_ script: String, column: Int, token: String?) -> ShellOutcome {
        let underline = String(repeating: " ", count: max(0, column - 1)) + String(repeating: "~", count: max(1, token?.count ?? 1))
        let message = [
            "At line:1 char:\(column)",
            "+ \(script)",
            "+ \(underline)",
            token.map { "Unexpected token '\($0)' in expression or statement." } ?? "Missing expression after unary operator '&'.",
            "    + CategoryInfo          : ParserError: (:) [], ParentContainsErrorRecordException",
            "    + FullyQualifiedErrorId : \(token == nil ? "MissingExpressionAfterOperator" : "UnexpectedToken")",
            "",
        ]
        return .finished(stdout: "", stderr: message.joined(separator: "\r\n") + "\r\n", exitCode: 1)
    }
}
