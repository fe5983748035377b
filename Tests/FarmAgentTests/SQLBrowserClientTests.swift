@testable import FarmAgent
import FarmProtocol
import Foundation
import XCTest

/// The SSRP datagrams, on the examples of [MC-SQLR] section 4.
final class SQLBrowserClientTests: XCTestCase {
    func testTheRequestIsTheSpecificationsExample() {
        // §4.2: 04 59 55 4b 4f 4e 53 54 44 00 asks for "YUKONSTD".
        XCTAssertEqual(SQLBrowserClient.instanceRequest("YUKONSTD"), [0x04, 0x59, 0x55, 0x4B, 0x4F, 0x4E, 0x53, 0x54, 0x44, 0x00])
        XCTAssertNil(SQLBrowserClient.instanceRequest(String(repeating: "A", count: 33)), "over the 32 bytes the protocol allows")
        XCTAssertNil(SQLBrowserClient.instanceRequest(""))
        XCTAssertEqual(SQLBrowserClient.listRequest, [0x03])
    }

    func testTheResponseOfTheSpecificationIsRead() {
        // §4.2's answer: 05 58 00 then 88 bytes.
        let text = "ServerName;ILSUNG1;InstanceName;YUKONSTD;IsClustered;No;Version;9.00.1399.06;tcp;57137;;"
        let datagram: [UInt8] = [0x05, UInt8(text.utf8.count), 0x00] + Array(text.utf8)
        XCTAssertEqual(datagram[1], 0x58)
        XCTAssertEqual(
            SQLBrowserClient.parseResponse(datagram),
            [.init(serverName: "ILSUNG1", instanceName: "YUKONSTD", version: "9.00.1399.06", tcpPort: 57137)])
    }

    func testAListWithPipesAndAnInstanceWithoutTCP() {
        // §4.1's shape: several instances, one with named pipes only.
        let text =
            "ServerName;S1;InstanceName;A;IsClustered;No;Version;9.00.1399.06;tcp;57137;;"
            + "ServerName;S1;InstanceName;B;IsClustered;No;Version;9.00.1399.06;np;\\\\S1\\pipe\\MSSQL$B\\sql\\query;;"
        let datagram: [UInt8] = [0x05, UInt8(text.utf8.count & 0xFF), UInt8(text.utf8.count >> 8)] + Array(text.utf8)
        let instances = SQLBrowserClient.parseResponse(datagram)
        XCTAssertEqual(instances?.map(\.instanceName), ["A", "B"])
        XCTAssertEqual(instances?.map(\.tcpPort), [57137, nil])
    }

    func testMalformedDatagramsAreNotResponses() {
        XCTAssertNil(SQLBrowserClient.parseResponse([]))
        XCTAssertNil(SQLBrowserClient.parseResponse([0x04, 0x00, 0x00]))
        XCTAssertNil(SQLBrowserClient.parseResponse([0x05, 0x10, 0x00] + Array("short".utf8)), "RESP_SIZE larger than the datagram")
        XCTAssertNil(SQLBrowserClient.parseResponse([0x05, 0x05, 0x00] + Array("a;b;;".utf8)), "no ServerName/InstanceName")
        let badPort = "ServerName;S;InstanceName;I;IsClustered;No;Version;1;tcp;99999999;;"
        XCTAssertEqual(SQLBrowserClient.parseResponse([0x05, UInt8(badPort.utf8.count), 0x00] + Array(badPort.utf8))?.first?.tcpPort, nil)
    }
}
