/// Windows hands a program one command-line string, not an argv; the program splits it itself.
/// These are the Microsoft C runtime's rules (`CommandLineToArgvW`), as documented in Microsoft's
/// "Parsing C++ command-line arguments", and their inverse for building a command line.
public enum WindowsCommandLine {
    /// Splits a command line the way `CommandLineToArgvW` and the C runtime do:
    /// - argv[0] (the program) is special: quotes only group, nothing is escaped, and it ends at
    ///   the first space or tab outside quotes;
    /// - later arguments are separated by spaces or tabs outside quotes;
    /// - `2n` backslashes before a quote give `n` backslashes and the quote opens or closes quoting;
    ///   `2n+1` backslashes before a quote give `n` backslashes and a literal quote;
    /// - backslashes not before a quote are literal;
    /// - inside quotes, `""` is one literal quote;
    /// - an unclosed quote runs to the end of the line.
    public static func split(_ line: String) -> [String] {
        let characters = Array(line)
        var index = 0
        var arguments: [String] = []
        func isBlank(_ c: Character) -> Bool { c == " " || c == "\t" }

        var program = ""
        var quoted = false
        while index < characters.count {
            let c = characters[index]
            if c == "\"" {
                quoted.toggle()
            } else if isBlank(c) && !quoted {
                break
            } else {
                program.append(c)
            }
            index += 1
        }
        arguments.append(program)

        while true {
            while index < characters.count && isBlank(characters[index]) { index += 1 }
            guard index < characters.count else { break }
            var argument = ""
            quoted = false
            while index < characters.count {
                let c = characters[index]
                if isBlank(c) && !quoted { break }
                if c == "\\" {
                    var end = index
                    while end < characters.count && characters[end] == "\\" { end += 1 }
                    let count = end - index
                    if end < characters.count && characters[end] == "\"" {
                        argument += String(repeating: "\\", count: count / 2)
                        if count % 2 == 1 {
                            argument.append("\"")
                            index = end + 1
                        } else {
                            index = end
                        }
                    } else {
                        argument += String(repeating: "\\", count: count)
                        index = end
                    }
                    continue
                }
                if c == "\"" {
                    if quoted && index + 1 < characters.count && characters[index + 1] == "\"" {
                        argument.append("\"")
                        index += 2
                        continue
                    }
                    quoted.toggle()
                    index += 1
                    continue
                }
                argument.append(c)
                index += 1
            }
            arguments.append(argument)
        }
        return arguments
    }

    /// One argument quoted so that `split` gives it back unchanged.
    public static func quote(_ argument: String) -> String {
        if !argument.isEmpty && !argument.contains(where: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\u{0B}" || $0 == "\"" }) {
            return argument
        }
        var result = "\""
        var backslashes = 0
        for c in argument {
            if c == "\\" {
                backslashes += 1
                continue
            }
            if c == "\"" {
                result += String(repeating: "\\", count: backslashes * 2 + 1) + "\""
            } else {
                result += String(repeating: "\\", count: backslashes) + String(c)
            }
            backslashes = 0
        }
        result += String(repeating: "\\", count: backslashes * 2) + "\""
        return result
    }

    /// A whole command line: the program (quoted when it has a space; a path holds no quote) and
    /// each argument quoted as needed.
    public static func join(program: String, _ arguments: [String]) -> String {
        let head = program.contains(" ") || program.contains("\t") || program.isEmpty ? "\"" + program + "\"" : program
        return ([head] + arguments.map(quote)).joined(separator: " ")
    }
}
