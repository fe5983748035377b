import FarmController
import FarmProtocol
import XCTest

/// What the server's shell prints before the agent's hello (a PowerShell profile, cmd.exe's
/// AutoRun): skipped within 64 KiB, shown when it is more or when no hello follows.
final class ShellPreambleTests: XCTestCase {
    private let hello = Hello(host: HostFacts(hostname: "fe1", operatingSystem: "Windows", processID: 1))
    private var helloLine: [UInt8] { get throws { Array(try WireCodec.encode(AgentMessage.hello(hello)).dropLast()) } }
    private func line(_ text: String) -> LineFramer.Item { .line(Array(text.utf8)) }

    func testAProfilesGreetingIsSkippedAndKept() throws {
        var preamble = ShellPreamble()
        XCTAssertNil(try preamble.read(line("Welcome to FE1 (managed by Contoso IT)")))
        XCTAssertNil(try preamble.read(line("")))
        XCTAssertEqual(try preamble.read(.line(try helloLine)), hello)
        XCTAssertEqual(preamble.lines, ["Welcome to FE1 (managed by Contoso IT)", ""])
        XCTAssertEqual(preamble.byteCount, 40)
    }

    func testAHelloAfterTextWithoutANewlineIsFound() throws {
        var preamble = ShellPreamble()
        XCTAssertEqual(try preamble.read(.line(Array("Loading profile... ".utf8) + (try helloLine))), hello)
        XCTAssertEqual(preamble.lines, ["Loading profile... "])
    }

    func testPastTheLimitItFailsSayingWhatWasPrintedAndWhereSuchOutputComesFrom() throws {
        var preamble = ShellPreamble()
        let row = String(repeating: "x", count: 1023)
        XCTAssertThrowsError(try (0...64).forEach { _ in _ = try preamble.read(line(row)) }) { error in
            guard case let .shellOutputBeforeHello(printed, count, ended) = error as? AgentSessionError else { return XCTFail("\(error)") }
            XCTAssertEqual(count, 65 * 1024)
            XCTAssertNil(ended)
            XCTAssertTrue(printed.contains("… 59 more lines …"), printed)
            let message = "\(error)"
            XCTAssertTrue(message.hasPrefix("the server's shell printed 66560 bytes before the agent's hello (more than the 64 KiB osfarm skips)"), message)
            XCTAssertTrue(message.contains(#"$PSHOME\profile.ps1"#), message)
            XCTAssertTrue(message.contains("AutoRun"), message)
        }
    }

    func testOutputThatEndsWithoutAHelloSaysHowItEnded() throws {
        var preamble = ShellPreamble()
        XCTAssertNil(try preamble.read(line("'C:\\Program' is not recognized as an internal or external command,")))
        let message = "\(preamble.failure(ended: "the output ended (exit status 1 as libssh2 reports it)"))"
        XCTAssertTrue(message.contains("then the output ended (exit status 1 as libssh2 reports it), without the agent's hello"), message)
        XCTAssertTrue(message.contains("'C:\\Program' is not recognized"), message)
    }

    func testAnotherMessageFirstIsStillAProtocolViolation() throws {
        var preamble = ShellPreamble()
        let result = Array(try WireCodec.encode(AgentMessage.result(requestID: "1", .ok(.pong(Pong(agentTimeMilliseconds: 1))))).dropLast())
        XCTAssertThrowsError(try preamble.read(.line(result))) {
            XCTAssertEqual($0 as? AgentSessionError, .protocolViolation("the agent's first message was not hello"))
        }
    }
}
