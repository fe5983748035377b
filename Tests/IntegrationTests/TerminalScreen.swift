/// What a terminal shows after some output: the few control sequences osfarm's live view and
/// questions use (newline, carriage return, cursor up, erase below or the line, cursor save and
/// restore; colours are dropped), enough to see whether a block was drawn over or drawn twice.
struct TerminalScreen {
    private(set) var rows: [[Character]] = [[]]
    private var row = 0
    private var column = 0
    private var saved = (0, 0)

    init(_ output: String) {
        var characters = Array(output)[...]
        while let character = characters.popFirst() {
            switch character {
            case "\n":
                row += 1
                column = 0
                if row == rows.count { rows.append([]) }
            case "\r", "\r\n":
                if character == "\r\n" {
                    row += 1
                    if row == rows.count { rows.append([]) }
                }
                column = 0
            case "\u{1B}":
                guard let next = characters.popFirst() else { return }
                if next == "7" {
                    saved = (row, column)
                } else if next == "8" {
                    (row, column) = saved
                } else if next == "[" {
                    var parameter = ""
                    while let code = characters.popFirst() {
                        if code.isLetter {
                            apply(code, Int(parameter) ?? 0)
                            break
                        }
                        parameter.append(code)
                    }
                }
            default:
                while rows[row].count < column { rows[row].append(" ") }
                if column < rows[row].count { rows[row][column] = character } else { rows[row].append(character) }
                column += 1
            }
        }
    }

    private mutating func apply(_ code: Character, _ count: Int) {
        switch code {
        case "A": row = max(0, row - max(1, count))
        case "J":
            rows[row] = Array(rows[row].prefix(column))
            rows.removeSubrange((row + 1)...)
        case "K": if count == 2 { rows[row] = [] } else { rows[row] = Array(rows[row].prefix(column)) }
        default: break  // colours
        }
    }

    var lines: [String] { rows.map { String($0) } }
}
