import FarmController
import FarmProtocol
@testable import FarmSimulator
import Foundation
import XCTest

/// Windows servers in other languages: their sc.exe, reg.exe and iisreset.exe print translated
/// labels and messages in their OEM code page. The whole move must work the same, judged by
/// `osfarm-sim farm status` (the simulator's ground truth), not by osfarm's own report.
final class LanguageTests: XCTestCase {
    private func assertFarmStatus(_ farm: TestFarm, languages: [String: DisplayLanguage], file: StaticString = #filePath, line: UInt = #line) throws {
        let status = try runProgram(TestFarm.binary("osfarm-sim"), ["farm", "status", "--dir", farm.directory, "--expect-database", farm.newDatabase])
        XCTAssertEqual(status.status, 0, status.stdout + status.stderr, file: file, line: line)
        XCTAssertTrue(status.stdout.contains("every server names \(farm.newDatabase) and runs"), status.stdout, file: file, line: line)
        for (name, language) in languages {
            let row = status.stdout.split(separator: "\n").first { $0.hasPrefix("  \(name)  ") } ?? ""
            XCTAssertTrue(row.contains(" \(language.rawValue) cmd"), "\(name): \(row)", file: file, line: line)
        }
    }

    func testAMoveOnAFarmWhoseServersSpeakDifferentLanguages() throws {
        // The front-ends have no RabbitMQ and some no Log Service: each says 1060 in its own language.
        // English is every other test's language: here ja-JP (Shift-JIS) takes its place.
        let languages: [DisplayLanguage] = [.german, .french, .spanish, .portuguese, .chinese, .japanese]
        let farm = try TestFarm(frontEnds: languages.count - 1) { specs in
            for index in specs.indices { specs[index].language = languages[index] }
        }
        defer { farm.shutdown() }
        let inspection = try osfarm(["check", "-i", farm.record.inventory])
        XCTAssertEqual(inspection.status, 0, inspection.stdout + inspection.stderr)
        let result = try farm.moveDB("run", ["--db-restored", "--expect-from", farm.oldDatabase])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        try assertFarmStatus(farm, languages: Dictionary(uniqueKeysWithValues: zip(farm.record.servers.map(\.name), languages)))
    }

    func testTheWholeMoveOnAPseudoLocaleFarm() throws {
        let farm = try TestFarm(frontEnds: 2) { specs in
            for index in specs.indices { specs[index].language = .pseudo }
        }
        defer { farm.shutdown() }
        // What the agent reads there: no English label or message anywhere (decoded by iconv, not by the agent's decoder).
        let sc = try farm.file(#"C:\Windows\System32\sc.exe"#, on: "dc1")
        let text = try runProgram("/bin/sh", ["-c", "\"$0\" qc W3SVC | iconv -f CP852 -t UTF-8", sc]).stdout
        XCTAssertTrue(text.contains("[ŠŤĄŘŤ_ŤÝPĚ !!!]"), text)
        XCTAssertFalse(text.contains("START_TYPE") || text.contains("SUCCESS"), text)
        let result = try farm.moveDB("run", ["--db-restored"])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        try assertFarmStatus(farm, languages: Dictionary(uniqueKeysWithValues: farm.record.servers.map { ($0.name, DisplayLanguage.pseudo) }))
        // Services stopped and started through the agent on each server, in the pseudo-locale.
        let services = try osfarm(["services", "status", "-i", farm.record.inventory])
        XCTAssertEqual(services.status, 0, services.stdout + services.stderr)
    }
}
