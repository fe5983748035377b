import FarmController
import FarmProtocol
import XCTest

final class TargetSelectorTests: XCTestCase {
    private let servers: [ServerEntry] = [
        ("dc1", ServerRole.deploymentController, ["eu"]), ("fe1", .frontEnd, ["eu"]), ("fe2", .frontEnd, ["us"]), ("fe10", .frontEnd, ["us", "canary"]),
    ].enumerated().map { index, item in
        ServerEntry(
            name: item.0, host: "10.0.0.\(index)", port: 22, user: "u", identity: nil, role: item.1, tags: item.2,
            agentCommand: "osfarm-agent serve", line: index + 2)
    }

    private func names(_ limit: String?) throws -> [String] { try TargetSelector(limit).select(from: servers).map(\.name) }

    func testSelections() throws {
        XCTAssertEqual(try names(nil), ["dc1", "fe1", "fe2", "fe10"])
        XCTAssertEqual(try names("fe1"), ["fe1"])
        XCTAssertEqual(try names("fe?"), ["fe1", "fe2"])
        XCTAssertEqual(try names("fe*,dc1"), ["dc1", "fe1", "fe2", "fe10"])
        XCTAssertEqual(try names("role:front-end"), ["fe1", "fe2", "fe10"])
        XCTAssertEqual(try names("role:dc"), ["dc1"])
        XCTAssertEqual(try names("tag:us"), ["fe2", "fe10"])
        XCTAssertEqual(try names("tag:us,!tag:canary"), ["fe2"])
        XCTAssertEqual(try names("!fe1"), ["dc1", "fe2", "fe10"])
        XCTAssertEqual(try names(" role:fe , !fe1 "), ["fe2", "fe10"])
    }

    func testMistakesAreErrorsNotSilentChanges() {
        XCTAssertThrowsError(try names("fe3")) { XCTAssertEqual("\($0)", "--limit \"fe3\": \"fe3\" matches no server in the inventory") }
        XCTAssertThrowsError(try names("role:web")) { XCTAssertTrue("\($0)".contains("unknown role \"web\"")) }
        XCTAssertThrowsError(try names("tag:asia")) { XCTAssertTrue("\($0)".contains("tag:asia matches no server")) }
        XCTAssertThrowsError(try names("fe1,,fe2")) { XCTAssertTrue("\($0)".contains("empty term")) }
        XCTAssertThrowsError(try names("fe1,!fe1")) { XCTAssertTrue("\($0)".contains("selects no server")) }
    }
}
