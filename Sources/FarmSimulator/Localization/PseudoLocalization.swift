/// Windows' base pseudo-locale (qps-ploc) rewrites every resource string: each letter becomes a
/// look-alike accented letter, and the string is bracketed and padded ("[Шěđлеśđαỳ !!!]" in
/// Microsoft's "Pseudo-Locales" page). The simulator's rewrite uses only letters code page 852
/// holds, so the text survives the trip through the server's OEM code page.
enum PseudoLocalization {
    private static let letters: [Character: Character] = [
        "a": "ą", "c": "č", "d": "ď", "e": "ě", "i": "í", "l": "ł", "n": "ň", "o": "ő", "r": "ř", "s": "š",
        "t": "ť", "u": "ů", "y": "ý", "z": "ž", "A": "Ą", "C": "Č", "D": "Ď", "E": "Ě", "I": "Í", "L": "Ł",
        "N": "Ň", "O": "Ő", "R": "Ř", "S": "Š", "T": "Ť", "U": "Ů", "Y": "Ý", "Z": "Ž",
    ]

    /// A resource string rewritten. Placeholders (`{0}`, `{1}`…) stay as they are, so the numbers
    /// and names filled in later do not change.
    static func rewrite(_ text: String) -> String {
        var result = ""
        var inPlaceholder = false
        for c in text {
            if c == "{" { inPlaceholder = true }
            result.append(inPlaceholder ? c : (letters[c] ?? c))
            if c == "}" { inPlaceholder = false }
        }
        return "[" + result + " !!!]"
    }
}
