import FarmProtocol
import Foundation
import XCTest

final class SecretTests: XCTestCase {
    struct Credentials: Codable {
        var user: String
        var password: Secret
    }

    private let clear = "Tr0ub4dor&3-not-for-logs"

    func testSecretPrintsAndReflectsRedacted() {
        let secret = Secret(clear)
        XCTAssertEqual("\(secret)", "<redacted>")
        XCTAssertEqual(String(reflecting: secret), "<redacted>")
        var dumped = ""
        dump(Credentials(user: "sa", password: secret), to: &dumped)
        XCTAssertFalse(dumped.contains(clear), dumped)
        XCTAssertFalse("\(Credentials(user: "sa", password: secret))".contains(clear))
    }

    func testRecordEncodersRedactAndOnlyTheWireRevealsTheValue() throws {
        let value = Credentials(user: "sa", password: Secret(clear))
        for encoder in [WireCodec.recordEncoder(), WireCodec.recordEncoder(pretty: true), JSONEncoder()] {
            let text = String(decoding: try encoder.encode(value), as: UTF8.self)
            XCTAssertFalse(text.contains(clear), text)
            XCTAssertTrue(text.contains("<redacted>"), text)
        }
        let wire = JSONEncoder()
        wire.userInfo[WireCodec.revealSecretsKey] = true
        XCTAssertTrue(String(decoding: try wire.encode(value), as: UTF8.self).contains(clear))
        let decoded = try JSONDecoder().decode(Credentials.self, from: try wire.encode(value))
        XCTAssertEqual(decoded.password.reveal(), clear)
    }

    func testLoggedMessagesNeverCarryTheSecret() throws {
        // An agent error whose text came from a tool must still be logged without the secret only
        // if it never contained it; Secret values themselves are what the record encoder guards.
        let message = AgentMessage.result(requestID: "7", .failure(AgentError(.operationFailed, "login failed for user sa")))
        let logged = try WireCodec.encodeForRecord(message)
        XCTAssertFalse(logged.contains(clear))
        let request = Request(id: "8", operation: .inspect)
        XCTAssertFalse(try WireCodec.encodeForRecord(request).contains(clear))
    }
}
