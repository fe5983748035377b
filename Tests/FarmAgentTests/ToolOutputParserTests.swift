import FarmAgent
import FarmProtocol
import Foundation
import XCTest

/// The agent's parsers on the fixtures of Windows tool output (Tests/Fixtures/windows/LANGUAGE),
/// each decoded from its language's OEM code page: every language must read the same.
final class ToolOutputParserTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/windows")

    static let languages = ["en-US", "de-DE", "fr-FR", "es-ES", "pt-BR", "zh-CN", "ja-JP", "qps-ploc"]

    /// A fixture as the agent reads it: bytes decoded from the language's code page.
    static func fixture(_ name: String, language: String = "en-US") throws -> String {
        let folder = fixtures.appendingPathComponent(language)
        let codePage = try XCTUnwrap(
            Int(
                try String(contentsOf: folder.appendingPathComponent("codepage"), encoding: .utf8)
                    .trimmingCharacters(in: .whitespacesAndNewlines)))
        return ConsoleText.decode(try Data(contentsOf: folder.appendingPathComponent(name)), codePage: codePage)
    }

    /// The exit status sc.exe's emulation has on Linux for a Win32 error (8 bits of it).
    private func linuxStatus(_ code: Int) -> Int32 { Int32(code & 0xff) }

    func testEveryLanguageHasEveryFixture() throws {
        let english = try FileManager.default.contentsOfDirectory(atPath: Self.fixtures.appendingPathComponent("en-US").path).sorted()
        XCTAssertEqual(english.filter { $0.hasSuffix(".txt") }.count, 17, "a fixture was added or removed: update this test and SOURCES.md")
        for language in Self.languages {
            let names = try FileManager.default.contentsOfDirectory(atPath: Self.fixtures.appendingPathComponent(language).path).sorted()
            XCTAssertEqual(names, english, language)
        }
    }

    func testServiceStatusReadsTheSameInEveryLanguage() throws {
        for language in Self.languages {
            XCTAssertEqual(
                try ServiceControlOutput.parseStatus(try Self.fixture("sc-queryex-running.txt", language: language)),
                .init(name: "OutSystems Deployment Controller Service", state: .running, processID: 4316), language)
            XCTAssertEqual(
                try ServiceControlOutput.parseStatus(try Self.fixture("sc-query-stopped.txt", language: language)),
                .init(name: "OutSystems Scheduler Service", state: .stopped, processID: nil), language)
            let pending = try ServiceControlOutput.parseStatus(try Self.fixture("sc-queryex-stop-pending.txt", language: language))
            XCTAssertEqual(pending.state, .stopPending, language)
            XCTAssertEqual(pending.processID, 4320, language)
        }
    }

    func testServiceConfigurationReadsTheSameInEveryLanguage() throws {
        for language in Self.languages {
            let w3svc = try ServiceControlOutput.parseConfiguration(try Self.fixture("sc-qc-w3svc.txt", language: language))
            XCTAssertEqual(w3svc, .init(name: "W3SVC", startType: .automatic, displayName: "World Wide Web Publishing Service"), language)
            XCTAssertEqual(
                try ServiceControlOutput.parseConfiguration(try Self.fixture("sc-qc-disabled.txt", language: language)).startType,
                .disabled, language)
        }
    }

    func testServiceControlErrorsByNumberInEveryLanguage() throws {
        for language in Self.languages {
            for (name, code) in [
                ("sc-query-1060.txt", 1060), ("sc-stop-1062.txt", 1062), ("sc-start-1056.txt", 1056),
                ("sc-start-1058.txt", 1058), ("sc-start-1053.txt", 1053),
            ] {
                let text = try Self.fixture(name, language: language)
                XCTAssertEqual(ServiceControlOutput.parseFailure(text, exitCode: linuxStatus(code))?.code, code, "\(language) \(name)")
                // On Windows the exit code is the error itself.
                XCTAssertEqual(ServiceControlOutput.parseFailure(text, exitCode: Int32(code))?.code, code, "\(language) \(name)")
            }
            XCTAssertNil(ServiceControlOutput.parseFailure(try Self.fixture("sc-queryex-running.txt", language: language), exitCode: 0))
        }
        XCTAssertEqual(
            ServiceControlOutput.parseFailure(try Self.fixture("sc-query-1060.txt"), exitCode: 36),
            .init(code: 1060, message: "The specified service does not exist as an installed service."))
        XCTAssertEqual(
            ServiceControlOutput.parseFailure(try Self.fixture("sc-query-1060.txt", language: "de-DE"), exitCode: 36)?.message,
            "Der angegebene Dienst ist kein installierter Dienst.", "decoded from code page 850")
    }

    func testANumberThatDisagreesWithTheExitCodeIsNotTaken() {
        XCTAssertNil(ServiceControlOutput.parseFailure("[SC] OpenService FAILED 1060:\r\n", exitCode: 1))
        XCTAssertEqual(ServiceControlOutput.parseFailure("garbled", exitCode: 1060)?.code, 1060, "Windows: the exit code alone says it")
    }

    func testRegistryDefaultValueByLayoutInEveryLanguage() throws {
        for language in Self.languages {
            let folder = try XCTUnwrap(try RegistryOutput.parse(try Self.fixture("reg-query-installer-default.txt", language: language)))
            XCTAssertEqual(folder.count, 1, language)
            XCTAssertEqual(folder.first?.data, #"C:\Program Files\OutSystems\Platform Server"#, language)
            XCTAssertEqual(
                try RegistryOutput.parse(try Self.fixture("reg-query-installer-version.txt", language: language)),
                [.init(name: "Server", type: "REG_SZ", data: "11.23.0.1")], language)
            XCTAssertEqual(try RegistryOutput.parse(try Self.fixture("reg-query-installer.txt", language: language)).count, 2, language)
        }
        XCTAssertEqual(try RegistryOutput.parse(try Self.fixture("reg-query-installer-default.txt", language: "fr-FR")).first?.name, "(par défaut)")
    }

    func testMalformedOutputIsAClearErrorNotACrash() {
        for garbage in ["", "Access is denied.", "SERVICE_NAME: X\r\n STATE : banana\r\n", "\u{0}\u{1}binary", "[SC] FAILED"] {
            XCTAssertThrowsError(try ServiceControlOutput.parseStatus(garbage)) { error in
                XCTAssertTrue("\(error)".contains("osfarm cannot read"), "\(error)")
            }
            XCTAssertThrowsError(try ServiceControlOutput.parseConfiguration(garbage))
            XCTAssertNil(ServiceControlOutput.parseFailure(garbage, exitCode: 1))
        }
        XCTAssertThrowsError(try RegistryOutput.parse("HKEY_LOCAL_MACHINE\\X\r\n    Server    NOT_A_TYPE\r\n"))
        XCTAssertThrowsError(try RegistryOutput.parse("nothing useful"))
    }

    func testCodePagesDecode() {
        XCTAssertEqual(ConsoleText.decode(Data([0x42, 0x49, 0x4E, 0x8E, 0x52]), codePage: 850), "BINÄR")
        XCTAssertEqual(ConsoleText.decode(Data([0x84]), codePage: 850), "ä")
        XCTAssertEqual(ConsoleText.decode(Data([0xCA, 0xA7, 0xB0, 0xDC]), codePage: 936), "失败")
        XCTAssertEqual(ConsoleText.decode(Data("plain".utf8), codePage: 437), "plain")
    }
}

/// No English word a translated Windows prints differently is read by the agent's parsers.
final class LanguageIndependenceTests: XCTestCase {
    func testTheAgentHoldsNoEnglishLabelOrMessage() throws {
        let root = PortabilityGuardTests.root.appendingPathComponent("Sources/FarmAgent")
        let words = [
            "SERVICE_NAME", "\"STATE", "START_TYPE", "BINARY_PATH_NAME", "QueryServiceConfig", "SUCCESS", "FAILED", "(Default)",
            "ERROR:", "unable to find", "Internet services", "successfully", "Attempting", "is not recognized", "does not exist as",
        ]
        var found: [String] = []
        for file in try XCTUnwrap(FileManager.default.enumerator(atPath: root.path)).compactMap({ $0 as? String }) where file.hasSuffix(".swift") {
            let text = try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)
            for (index, line) in text.components(separatedBy: "\n").enumerated() {
                let code = line.trimmingCharacters(in: .whitespaces)
                if code.hasPrefix("//") { continue }
                let withoutComment = code.components(separatedBy: "//").first ?? code
                for word in words where withoutComment.contains(word) { found.append("\(file):\(index + 1): \(word)") }
            }
        }
        XCTAssertEqual(found, [], found.joined(separator: "\n"))
    }
}
