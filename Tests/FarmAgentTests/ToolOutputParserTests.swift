import FarmAgent
import FarmProtocol
import Foundation
import XCTest

/// The agent's parsers on the fixtures of real Windows tool output (Tests/Fixtures/windows).
final class ToolOutputParserTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/windows")

    private func fixture(_ name: String) throws -> String {
        try String(contentsOf: Self.fixtures.appendingPathComponent(name), encoding: .utf8)
    }

    func testEveryFixtureIsParsedByTheParserForItsCommand() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.fixtures.path).filter { $0.hasSuffix(".txt") }
        XCTAssertEqual(names.count, 15, "a fixture was added or removed: update this test and SOURCES.md")
        for name in names {
            let text = try fixture(name)
            switch name {
            case _ where name.hasPrefix("sc-query") && !name.contains("1060"):
                XCTAssertNoThrow(try ServiceControlOutput.parseStatus(text), name)
            case _ where name.hasPrefix("sc-qc"):
                XCTAssertNoThrow(try ServiceControlOutput.parseConfiguration(text), name)
            case _ where name.hasPrefix("sc-"):
                XCTAssertNotNil(ServiceControlOutput.parseFailure(text), name)
            case _ where name.hasPrefix("reg-"):
                XCTAssertNoThrow(try RegistryOutput.parse(text), name)
            case _ where name.hasPrefix("iisreset-"):
                XCTAssertTrue(text.contains("Internet services successfully") || text.contains("Status for"), name)
            default:
                XCTFail("no parser test for \(name)")
            }
        }
    }

    func testServiceStatus() throws {
        XCTAssertEqual(try ServiceControlOutput.parseStatus(try fixture("sc-queryex-running.txt")),
                       .init(name: "OutSystems Deployment Controller Service", state: .running, processID: 4316))
        XCTAssertEqual(try ServiceControlOutput.parseStatus(try fixture("sc-query-stopped.txt")),
                       .init(name: "OutSystems Scheduler Service", state: .stopped, processID: nil))
        XCTAssertEqual(try ServiceControlOutput.parseStatus(try fixture("sc-queryex-stop-pending.txt")).state, .stopPending)
    }

    func testServiceConfiguration() throws {
        let w3svc = try ServiceControlOutput.parseConfiguration(try fixture("sc-qc-w3svc.txt"))
        XCTAssertEqual(w3svc, .init(name: "W3SVC", startType: .automatic, displayName: "World Wide Web Publishing Service"))
        XCTAssertEqual(try ServiceControlOutput.parseConfiguration(try fixture("sc-qc-disabled.txt")).startType, .disabled)
    }

    func testServiceControlErrors() throws {
        XCTAssertEqual(ServiceControlOutput.parseFailure(try fixture("sc-query-1060.txt")),
                       .init(code: 1060, message: "The specified service does not exist as an installed service."))
        XCTAssertEqual(ServiceControlOutput.parseFailure(try fixture("sc-stop-1062.txt"))?.code, 1062)
        XCTAssertEqual(ServiceControlOutput.parseFailure(try fixture("sc-start-1056.txt"))?.code, 1056)
        XCTAssertEqual(ServiceControlOutput.parseFailure(try fixture("sc-start-1058.txt"))?.code, 1058)
        XCTAssertEqual(ServiceControlOutput.parseFailure(try fixture("sc-start-1053.txt"))?.message,
                       "The service did not respond to the start or control request in a timely fashion.")
        XCTAssertNil(ServiceControlOutput.parseFailure(try fixture("sc-queryex-running.txt")))
    }

    func testRegistry() throws {
        let values = try XCTUnwrap(try RegistryOutput.parse(try fixture("reg-query-installer.txt")))
        XCTAssertEqual(values["(Default)"]?.data, #"C:\Program Files\OutSystems\Platform Server"#)
        XCTAssertEqual(values["Server"], .init(name: "Server", type: "REG_SZ", data: "11.23.0.1"))
        XCTAssertNil(try RegistryOutput.parse(try fixture("reg-query-missing.txt")))
    }

    func testMalformedOutputIsAClearErrorNotACrash() {
        for garbage in ["", "Access is denied.", "SERVICE_NAME: X\r\n STATE : banana\r\n", "\u{0}\u{1}binary", "[SC] FAILED"] {
            XCTAssertThrowsError(try ServiceControlOutput.parseStatus(garbage)) { error in
                XCTAssertTrue("\(error)".contains("osfarm cannot read"), "\(error)")
            }
            XCTAssertThrowsError(try ServiceControlOutput.parseConfiguration(garbage))
            XCTAssertNil(ServiceControlOutput.parseFailure(garbage))
        }
        XCTAssertThrowsError(try RegistryOutput.parse("HKEY_LOCAL_MACHINE\\X\r\n    Server    NOT_A_TYPE\r\n"))
        XCTAssertThrowsError(try RegistryOutput.parse("nothing useful"))
    }
}
