@testable import FarmAgent
import FarmProtocol
import Foundation
import XCTest

/// powershell.exe as the agent's runner sees it: records what it was given, answers a fixed output.
final class ScriptedPowerShell: CommandRunner, @unchecked Sendable {
    private let lock = NSLock()
    private var received: [(arguments: [String], input: Data)] = []
    let output: String

    init(output: String) { self.output = output }

    var calls: [(arguments: [String], input: Data)] { lock.withLock { received } }

    func run(_ program: String, _ arguments: [String], timeout: Double, onLine: ((String) -> Void)?) throws(AgentError) -> CommandOutput {
        throw AgentError(.operationFailed, "the HTTPS call gives powershell.exe an input")
    }

    func run(_ program: String, _ arguments: [String], input: Data, timeout: Double) throws(AgentError) -> CommandOutput {
        lock.withLock { received.append((arguments, input)) }
        return CommandOutput(exitCode: 0, output: output)
    }
}

/// GetPlatformInfo over HTTPS: the fixed script the agent runs, what it gives it, and how its
/// answer becomes a report that names the certificate (issue 19, point 5).
final class PlatformInfoScriptTests: XCTestCase {
    private let environment = HostEnvironment(root: "/nonexistent", localAddress: "127.0.0.1")
    private let answer =
        #"<?xml version=\"1.0\" encoding=\"utf-8\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body>"#
        + #"<GetPlatformInfoResponse xmlns=\"http://www.outsystems.com\"><Version>11.23.0.1</Version><Serial>S1</Serial></GetPlatformInfoResponse>"#
        + "</soap:Body></soap:Envelope>"

    func testTheScriptTheAgentRunsIsTheOneInDeploy() throws {
        let file = PortabilityGuardTests.root.appendingPathComponent("deploy/windows/Get-OsfarmPlatformInfo.ps1")
        let text = try String(contentsOf: file, encoding: .utf8)
        XCTAssertEqual(PlatformInfoScript.text, String(text.dropLast(text.hasSuffix("\n") ? 1 : 0)))
        XCTAssertTrue(PlatformInfoScript.text.hasPrefix("# osfarm-platform-info 1"))
    }

    func testHTTPSGoesThroughTheScriptOnLoopbackAndSaysWhichCertificateItAccepted() throws {
        let powerShell = ScriptedPowerShell(
            output: #"{"status":200,"reason":"OK","server":"Microsoft-IIS/10.0","location":"","body":"\#(answer)","#
                + #""certificate":{"subject":"CN=osfe1.example.com","thumbprint":"AB12","errors":"RemoteCertificateNameMismatch","loopback":true,"inMachineStore":true,"accepted":true}}"#
                + "\r\n")
        let report = PlatformInfoClient(environment: environment, runner: powerShell).call(
            PlatformInfoArguments(timeoutSeconds: 10, hostHeader: "osfe1.example.com", scheme: .https), port: 80)
        XCTAssertTrue(report.answered, "\(report)")
        XCTAssertEqual(report.version, "11.23.0.1")
        XCTAssertEqual(report.url, "https://osfe1.example.com/ServiceCenter/OutSystemsPlatform.asmx")
        XCTAssertEqual(
            report.certificate?.summary,
            "CN=osfe1.example.com (thumbprint AB12) with RemoteCertificateNameMismatch, accepted as this server's own certificate on loopback")
        // The script, never data, on the command line; the URL (loopback, port 443) and Host on stdin.
        let call = try XCTUnwrap(powerShell.calls.first)
        XCTAssertEqual(Array(call.arguments.prefix(2)), ["-NoProfile", "-NonInteractive"])
        let encoded = try XCTUnwrap(Data(base64Encoded: try XCTUnwrap(call.arguments.last)))
        let units = stride(from: 0, to: encoded.count, by: 2).map { UInt16(encoded[$0]) | UInt16(encoded[$0 + 1]) << 8 }
        XCTAssertEqual(String(decoding: units, as: UTF16.self), PlatformInfoScript.text)
        let input = try XCTUnwrap(try JSONSerialization.jsonObject(with: call.input) as? [String: Any])
        XCTAssertEqual(input["url"] as? String, "https://127.0.0.1:443/ServiceCenter/OutSystemsPlatform.asmx")
        XCTAssertEqual(input["host"] as? String, "osfe1.example.com")
    }

    func testACertificateThatIsNotTheServersOwnIsRefusedAndSaysWhy() {
        let powerShell = ScriptedPowerShell(
            output: #"{"status":0,"failure":"TrustFailure","message":"Could not establish trust relationship for the SSL/TLS secure channel.","#
                + #""certificate":{"subject":"CN=localhost","thumbprint":"CD34","errors":"RemoteCertificateNameMismatch, RemoteCertificateChainErrors","loopback":true,"inMachineStore":false,"accepted":false}}"#
                + "\r\n")
        let report = PlatformInfoClient(environment: environment, runner: powerShell).call(
            PlatformInfoArguments(timeoutSeconds: 10, port: 8443, scheme: .https), port: 80)
        XCTAssertEqual(report.failure, .certificateRefused)
        XCTAssertEqual(report.url, "https://127.0.0.1:8443/ServiceCenter/OutSystemsPlatform.asmx")
        XCTAssertEqual(
            report.reason,
            "the server's certificate is CN=localhost (thumbprint CD34) with"
                + " RemoteCertificateNameMismatch, RemoteCertificateChainErrors, refused: it is not one of this server's own (its thumbprint is in"
                + #" neither LocalMachine\My nor LocalMachine\WebHosting)"#)

        let silent = PlatformInfoClient(environment: environment, runner: ScriptedPowerShell(output: "Add-Type : something else\r\n")).call(
            PlatformInfoArguments(timeoutSeconds: 10, scheme: .https), port: 80)
        XCTAssertEqual(silent.failure, .unreadable)
        XCTAssertTrue(silent.reason?.contains("the HTTPS script gave no answer") ?? false, "\(silent)")
    }

    func testARedirectToHTTPSNamesTheInventoryFix() {
        XCTAssertEqual(
            PlatformInfoClient.redirectHint(
                location: "https://osfe1.example.com/ServiceCenter/OutSystemsPlatform.asmx", scheme: .http, hostHeader: "OSFE1.example.com"),
            "; the farm enforces HTTPS: set service-center.scheme: https in the inventory (the agent then calls it through .NET's HttpWebRequest,"
                + " accepting only this server's own certificate on loopback)")
        XCTAssertTrue(
            PlatformInfoClient.redirectHint(location: "https://portal.example.com:8443/x", scheme: .http, hostHeader: "127.0.0.1")
                .contains("set service-center.scheme: https and service-center.host: portal.example.com and service-center.port: 8443 in the inventory"))
        XCTAssertEqual(PlatformInfoClient.redirectHint(location: "http://other/", scheme: .http, hostHeader: "127.0.0.1"), "")
        XCTAssertEqual(PlatformInfoClient.redirectHint(location: "https://x/", scheme: .https, hostHeader: "x"), "")
    }
}
