@testable import FarmAgent
import FarmProtocol
import Foundation
import XCTest

/// The HTTP/1.1 framing the agent reads, and the SOAP answers of GetPlatformInfo.
final class HTTPClientTests: XCTestCase {
    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    func testContentLengthChunkedAndCloseDelimitedBodies() throws {
        let sized = bytes("HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 5\r\n\r\nhello")
        XCTAssertEqual(try HTTPClient.parse(sized, final: false)?.body, bytes("hello"))
        XCTAssertNil(try HTTPClient.parse(Array(sized.dropLast(2)), final: false), "incomplete: read more")
        XCTAssertThrowsError(try HTTPClient.parse(Array(sized.dropLast(2)), final: true))

        let chunked = bytes("HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n6;x=y\r\npedia \r\n0\r\n\r\n")
        let response = try XCTUnwrap(try HTTPClient.parse(chunked, final: false))
        XCTAssertEqual(response.status, 500)
        XCTAssertEqual(response.reason, "Internal Server Error")
        XCTAssertEqual(response.body, bytes("Wikipedia "))
        XCTAssertNil(try HTTPClient.parse(bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWi"), final: false))

        let closed = bytes("HTTP/1.1 404 Not Found\r\nServer: Microsoft-HTTPAPI/2.0\r\n\r\nbody until close")
        XCTAssertNil(try HTTPClient.parse(closed, final: false))
        XCTAssertEqual(try HTTPClient.parse(closed, final: true)?.header("server"), "Microsoft-HTTPAPI/2.0")
    }

    func testWhatIsNotHTTPIsSaid() {
        XCTAssertThrowsError(try HTTPClient.parse(bytes("SSH-2.0-OpenSSH\r\n\r\n"), final: false)) { error in
            XCTAssertEqual("\(error)", "the answer is not HTTP: status line \"SSH-2.0-OpenSSH\"")
        }
        XCTAssertThrowsError(try HTTPClient.parse([], final: true)) { error in
            XCTAssertEqual("\(error)", "the answer is not HTTP: the server closed the connection without answering")
        }
        XCTAssertThrowsError(try HTTPClient.parse(bytes("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"), final: false))
        XCTAssertThrowsError(try HTTPClient.parse(bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"), final: false))
    }

    func testTheRequestIsWhatSetupToolsSendsAndTheAnswerIsRead() {
        XCTAssertEqual(PlatformInfoClient.soapAction, "\"http://ServiceCenter/OutSystemsPlatform/GetPlatformInfo\"")
        XCTAssertTrue(PlatformInfoClient.envelope.contains(#"<soap:Body><GetPlatformInfo xmlns="http://www.outsystems.com" /></soap:Body>"#))
        let answer =
            #"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>"#
            + #"<GetPlatformInfoResponse xmlns="http://www.outsystems.com"><Version>11.23.0.1</Version><Serial>AB&amp;CD</Serial></GetPlatformInfoResponse>"#
            + "</soap:Body></soap:Envelope>"
        XCTAssertEqual(PlatformInfoClient.element("Version", in: answer), "11.23.0.1")
        XCTAssertEqual(PlatformInfoClient.element("Serial", in: answer), "AB&CD")
        XCTAssertNil(PlatformInfoClient.element("faultstring", in: answer))
        XCTAssertEqual(PlatformInfoClient.element("Version", in: "<a:Version>1.2</a:Version>"), "1.2")
        XCTAssertEqual(PlatformInfoClient.element("Version", in: "<VersionX>no</VersionX><Version/>"), "")
        let fault = "<soap:Fault><faultcode>soap:Server</faultcode><faultstring>Server was unable to process request. ---&gt; down</faultstring></soap:Fault>"
        XCTAssertEqual(PlatformInfoClient.element("faultstring", in: fault), "Server was unable to process request. ---> down")
    }
}
