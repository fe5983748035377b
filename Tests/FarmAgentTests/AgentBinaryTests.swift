import FarmProtocol
import Foundation
import XCTest

/// The real osfarm-agent binary over pipes: what sshd gives it on a server.
final class AgentBinaryTests: XCTestCase {
    private var agentPath: String {
        #if os(Windows)
            let name = "osfarm-agent.exe"
        #else
            let name = "osfarm-agent"
        #endif
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name).path
    }

    private func runAgent(_ arguments: [String], input: [UInt8]) throws -> (status: Int32, stdout: String, stderr: String) {
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: agentPath), "build the agent first: \(agentPath)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: agentPath)
        process.arguments = arguments
        let stdin = Pipe(), stdout = Pipe()
        let errorPath = NSTemporaryDirectory() + "agent-stderr-\(UUID().uuidString)"
        FileManager.default.createFile(atPath: errorPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: errorPath) }
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errorPath))
        try process.run()
        let writer = Thread {
            try? stdin.fileHandleForWriting.write(contentsOf: Data(input))
            try? stdin.fileHandleForWriting.close()
        }
        writer.start()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let errorData = FileManager.default.contents(atPath: errorPath) ?? Data()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self), String(decoding: errorData, as: UTF8.self))
    }

    func testServeAnswersAndEndsCleanlyAtEndOfInput() throws {
        var input = try WireCodec.encode(Request(id: "1", operation: .inspect))
        input += Array("{broken\n".utf8)
        input += try WireCodec.encode(Request(id: "2", operation: .ping(PingArguments())))
        let result = try runAgent(["serve"], input: input)
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n").map { Array($0.utf8) }
        XCTAssertEqual(lines.count, 4, result.stdout)
        guard case let .hello(hello) = try WireCodec.decodeAgentMessage(lines[0]) else { return XCTFail(result.stdout) }
        XCTAssertEqual(hello.protocolVersion, .current)
        XCTAssertEqual(hello.host.hostname, ProcessInfo.processInfo.hostName)
        guard case let .result("1", .ok(.inspection(inspection))) = try WireCodec.decodeAgentMessage(lines[1]) else { return XCTFail(result.stdout) }
        XCTAssertEqual(inspection.agentVersion, OsfarmVersion.current)
        guard case .result(nil, .failure(let error)) = try WireCodec.decodeAgentMessage(lines[2]) else { return XCTFail(result.stdout) }
        XCTAssertEqual(error.code, .malformedRequest)
        guard case .result("2", .ok(.pong)) = try WireCodec.decodeAgentMessage(lines[3]) else { return XCTFail(result.stdout) }
        XCTAssertTrue(result.stderr.contains("end of input"), result.stderr)
    }

    func testUnknownCommandLineIsAUsageError() throws {
        let result = try runAgent(["serve", "--please"], input: [])
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.stderr.contains("usage: osfarm-agent serve"), result.stderr)
    }
}
