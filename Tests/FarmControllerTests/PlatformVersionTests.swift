import FarmController
import FarmProtocol
import XCTest

/// Platform versions compared as OutSystems.SetupTools compares them: as `[System.Version]`s
/// (Microsoft Learn, System.Version: 2 to 4 Int32 components, an undefined one older than any).
final class PlatformVersionTests: XCTestCase {
    func testVersionsReadAsSystemVersionDoes() throws {
        XCTAssertEqual(PlatformVersion("11.23.0.1")?.components, [11, 23, 0, 1])
        XCTAssertEqual(PlatformVersion("11.23")?.components, [11, 23, -1, -1])
        // Int32.Parse reads each component: leading zeros and white space around it are allowed.
        XCTAssertEqual(PlatformVersion("11.23.0.01"), PlatformVersion("11.23.0.1"))
        XCTAssertEqual(PlatformVersion(" 11.23.0.1 "), PlatformVersion("11.23.0.1"))
        // Five components, one, none, a letter, a negative or an Int32 overflow: not a version.
        for text in ["11.23.0.1.0", "11", "", "11.23.0.1a", "11.-23", "11.23.0.2147483648", "11..0"] {
            XCTAssertNil(PlatformVersion(text), text)
        }
        // Undefined components are older than defined ones: 11.23.0 is not 11.23.0.0.
        XCTAssertNotEqual(PlatformVersion("11.23.0"), PlatformVersion("11.23.0.0"))
        XCTAssertLessThan(try XCTUnwrap(PlatformVersion("11.23")), try XCTUnwrap(PlatformVersion("11.23.0")))
        XCTAssertLessThan(try XCTUnwrap(PlatformVersion("11.9.0.1")), try XCTUnwrap(PlatformVersion("11.23.0.1")))
    }

    func testTheProofComparesServiceCentersAnswerAsAVersion() throws {
        // The same version written differently passes, and says so.
        let same = try PlatformVersion.proof(answered: "11.23.0.01", expected: "11.23.0.1", server: "fe1")
        XCTAssertEqual(same, "Service Center answers: platform 11.23.0.01 (the registry writes it 11.23.0.1: the same version)")
        XCTAssertEqual(try PlatformVersion.proof(answered: "11.23.0.1", expected: "11.23.0.1", server: "fe1"), "Service Center answers: platform 11.23.0.1")
        // Another version fails, as before.
        XCTAssertThrowsError(try PlatformVersion.proof(answered: "11.24.0.1", expected: "11.23.0.1", server: "fe1")) {
            XCTAssertEqual("\($0)", "Service Center on fe1 answered version 11.24.0.1, not 11.23.0.1")
        }
        // 11.23.0.1.0 is no [System.Version]: SetupTools' cast would throw; the proof says why.
        XCTAssertThrowsError(try PlatformVersion.proof(answered: "11.23.0.1.0", expected: "11.23.0.1", server: "fe1")) {
            XCTAssertEqual(
                "\($0)",
                "Service Center on fe1 answered \"11.23.0.1.0\", which is not a version ([System.Version] takes 2 to 4 numbers, major.minor[.build[.revision]])"
            )
        }
    }

    /// Over HTTPS the proof says which certificate it trusted and why; a refused one fails it, named.
    func testTheProofOverHTTPSNamesTheCertificate() throws {
        let url = "https://127.0.0.1/ServiceCenter/OutSystemsPlatform.asmx"
        var own = ServiceCenterCertificate(
            subject: "CN=fe1", thumbprint: "AB12", errors: "RemoteCertificateNameMismatch", loopback: true, inMachineStore: true, accepted: true)
        let passed = try PlatformVersion.proof(
            PlatformInfoReport(url: url, version: "11.23.0.1", serial: nil, httpStatus: 200, failure: nil, reason: nil, milliseconds: 1, certificate: own),
            expected: "11.23.0.1", server: "fe1")
        XCTAssertEqual(
            passed,
            "Service Center answers: platform 11.23.0.1; over HTTPS, certificate CN=fe1 (thumbprint AB12) with RemoteCertificateNameMismatch,"
                + " accepted as this server's own certificate on loopback")
        own.accepted = false
        own.inMachineStore = false
        XCTAssertThrowsError(
            try PlatformVersion.proof(
                PlatformInfoReport(
                    url: url, version: nil, serial: nil, httpStatus: nil, failure: .certificateRefused,
                    reason: "the server's certificate is \(own.summary)", milliseconds: 1, certificate: own),
                expected: "11.23.0.1", server: "fe1")
        ) {
            XCTAssertTrue("\($0)".hasPrefix("Service Center on fe1 did not answer GetPlatformInfo (\(url): the server's certificate is CN=fe1"), "\($0)")
            XCTAssertTrue("\($0)".contains("refused: it is not one of this server's own"), "\($0)")
        }
    }
}
