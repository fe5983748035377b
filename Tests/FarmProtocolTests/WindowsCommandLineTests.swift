import FarmProtocol
import XCTest

/// CommandLineToArgvW's rules, on the examples of Microsoft's "Parsing C++ command-line arguments".
final class WindowsCommandLineTests: XCTestCase {
    func testMicrosoftsExamples() {
        let examples: [(String, [String])] = [
            (#""a b c" d e"#, ["a b c", "d", "e"]),
            (#""ab\"c" "\\" d"#, [#"ab"c"#, #"\"#, "d"]),
            (#"a\\\b d"e f"g h"#, [#"a\\\b"#, "de fg", "h"]),
            (#"a\\\"b c d"#, [#"a\"b"#, "c", "d"]),
            (#"a\\\\"b c" d e"#, [#"a\\b c"#, "d", "e"]),
            (#"a"b"" c d"#, [#"ab" c d"#]),
        ]
        for (line, expected) in examples {
            XCTAssertEqual(Array(WindowsCommandLine.split("program.exe " + line).dropFirst()), expected, line)
        }
    }

    func testTheProgramNameTakesNoEscapes() {
        XCTAssertEqual(
            WindowsCommandLine.split(#""C:\Program Files\osfarm\osfarm-agent.exe" serve"#),
            [#"C:\Program Files\osfarm\osfarm-agent.exe"#, "serve"])
        XCTAssertEqual(WindowsCommandLine.split(#"C:\Program Files\x.exe serve"#), [#"C:\Program"#, #"Files\x.exe"#, "serve"])
        XCTAssertEqual(WindowsCommandLine.split(#"C:\dir\"#)[0], #"C:\dir\"#)
    }

    func testQuotingGivesBackEveryArgument() {
        let awkward = ["", " ", "plain", "two words", #"C:\Program Files\"#, #"say "hi""#, #"\\"#, "tab\there", #"a\\"b"#, #"end\"#, "pass;w0rd&|<>^%"]
        let line = WindowsCommandLine.join(program: #"C:\Program Files\OutSystems\Platform Server\ConfigurationTool.com"#, awkward)
        XCTAssertEqual(WindowsCommandLine.split(line), [#"C:\Program Files\OutSystems\Platform Server\ConfigurationTool.com"#] + awkward)
        var generator = SystemRandomNumberGenerator()
        let alphabet: [Character] = ["a", "b", " ", "\"", "\\", "\t", "x"]
        for _ in 0..<500 {
            let arguments = (0..<Int.random(in: 1...4, using: &generator)).map { _ in
                String((0..<Int.random(in: 0...8, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
            }
            XCTAssertEqual(Array(WindowsCommandLine.split(WindowsCommandLine.join(program: "p.exe", arguments)).dropFirst()), arguments)
        }
    }
}
