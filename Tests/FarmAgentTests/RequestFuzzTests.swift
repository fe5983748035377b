import FarmAgent
import FarmProtocol
import Foundation
import XCTest

/// Seeded fuzzing of the agent's side of the wire: `WireCodec.decodeRequest` and the request loop
/// with random and mutated lines. No crash, no hang, every line refused with a typed error or
/// decoded into a request whose numbers are all in range, exactly one result per served line.
///
/// The seed is fixed (OSFARM_FUZZ_SEED overrides it); the run stops after OSFARM_FUZZ_CASES cases
/// or OSFARM_FUZZ_SECONDS seconds, whichever comes first, and prints how many it ran.
final class RequestFuzzTests: XCTestCase {
    private struct Random: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    private static let environment = ProcessInfo.processInfo.environment
    private static let seed = environment["OSFARM_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x05FA_2113
    private static let maxCases = environment["OSFARM_FUZZ_CASES"].flatMap { Int($0) } ?? 8_000
    private static let seconds = environment["OSFARM_FUZZ_SECONDS"].flatMap { Double($0) } ?? 3

    /// Valid request lines, one per operation, to mutate.
    private static let templates: [String] = [
        #"{"id":"1","op":"ping","v":1}"#,
        #"{"args":{"holdMilliseconds":0},"id":"2","op":"ping","v":1}"#,
        #"{"id":"3","op":"inspect","v":1}"#,
        #"{"id":"4","op":"service-status","v":1}"#,
        #"{"args":{"serviceTimeoutSeconds":120},"id":"5","op":"stop-services","v":1}"#,
        #"{"args":{"serviceTimeoutSeconds":0.5},"id":"6","op":"start-iis","v":1}"#,
        #"{"args":{"runID":"20261127-133844-b83a"},"id":"7","op":"backup-configuration","v":1}"#,
        #"{"args":{"runID":"r"},"id":"8","op":"restore-configuration","v":1}"#,
        #"{"args":{"logging":{"server":"db"},"platform":{"catalog":"os","server":"db,1433"},"session":{"server":"db\\S"}},"id":"9","op":"repoint-database","v":1}"#,
        #"{"args":{"installServiceCenter":true,"machineConfigWaitSeconds":300,"mode":{"mode":"UpgradeInstall","password":"pw"},"timeoutSeconds":1800},"id":"10","op":"run-configuration-tool","v":1}"#,
        #"{"args":{"installServiceCenter":false,"machineConfigWaitSeconds":1,"mode":{"credentials":{"password":"p","user":"u"},"mode":"RebuildSession"},"timeoutSeconds":60},"id":"11","op":"run-configuration-tool","v":1}"#,
        #"{"args":{"host":"db","port":1433,"timeoutSeconds":5},"id":"12","op":"probe-tcp","v":1}"#,
        #"{"args":{"timeoutSeconds":180},"id":"13","op":"wait-for-readiness","v":1}"#,
        #"{"args":{"sha256":"00","size":10},"id":"14","op":"begin-agent-update","v":1}"#,
        #"{"args":{"data":"AAAA","offset":0},"id":"15","op":"agent-update-chunk","v":1}"#,
        #"{"id":"16","op":"finish-agent-update","v":1}"#,
        #"{"args":{"maxRuns":5},"id":"17","op":"list-backups","v":1}"#,
        #"{"args":{"runID":"r"},"id":"18","op":"prune-backups","v":1}"#,
        #"{"id":"19","op":"shutdown","v":1}"#,
    ]

    /// Valid JSON numbers around and far outside the documented ranges.
    private static let hostileNumbers = [
        "1e308", "1e400", "-1e400", "-0", "99999999999999999999999", "-9223372036854775809", "0.000001",
        "1.5", "-1", "0", "9007199254740993", "1e-400", "4294967296", "65536", "3601", "86401", "60001",
        "1e10", "0.05", "300.5", "7201", "1001", "536870913",
    ]
    /// Not JSON at all, where a number goes.
    private static let brokenNumbers = ["NaN", "Infinity", "-", "1e", "0x10", "1_000"]
    private static let hostileStrings = [
        "\"\"", "null", "true", "[]", "{}", "\"\\u0000\"", "\"\\ud800\"", "\"..\\\\..\"",
        "\"" + String(repeating: "A", count: 5000) + "\"",
    ]

    /// One mutated or random line.
    private static func line(_ random: inout Random) -> [UInt8] {
        var bytes = Array(templates[Int.random(in: 0..<templates.count, using: &random)].utf8)
        switch Int.random(in: 0..<20, using: &random) {
        case 0:
            // Random bytes, any of the 256 (invalid UTF-8 included), no newline.
            return (0..<Int.random(in: 0..<200, using: &random)).map { _ in
                let byte = UInt8.random(in: 0...255, using: &random)
                return byte == 10 ? 0x20 : byte
            }
        case 1:
            // Deep nesting.
            let depth = Int.random(in: 1...5_000, using: &random)
            let open = Bool.random(using: &random) ? "[" : "{\"a\":"
            return Array(("{\"id\":\"n\",\"v\":1,\"op\":\"ping\",\"args\":" + String(repeating: open, count: depth)).utf8)
        default:
            break
        }
        // Half the cases stay JSON (only their numbers change): they reach the range checks.
        let staysJSON = Bool.random(using: &random)
        for _ in 0..<Int.random(in: 1...3, using: &random) {
            let text = String(decoding: bytes, as: UTF8.self)
            switch staysJSON ? Int.random(in: 0..<4, using: &random) : Int.random(in: 0..<9, using: &random) {
            case 0, 1, 2, 3:
                // Every number replaced by a hostile one (still JSON, mostly).
                let pool = Int.random(in: 0..<8, using: &random) == 0 ? brokenNumbers : hostileNumbers
                let replacement = pool[Int.random(in: 0..<pool.count, using: &random)]
                let mutated = text.replacingOccurrences(of: #"(?<=[:\[,])-?[0-9][0-9.eE+-]*"#, with: replacement, options: .regularExpression)
                // The protocol version stays (its own mutation is below): the arguments are the target.
                bytes = Array(mutated.replacingOccurrences(of: #""v":[^,}]*"#, with: "\"v\":1", options: .regularExpression).utf8)
            case 4:
                let replacement = hostileStrings[Int.random(in: 0..<hostileStrings.count, using: &random)]
                bytes = Array(text.replacingOccurrences(of: #""[^"]*"(?=[,}])"#, with: replacement, options: .regularExpression).utf8)
            case 5:
                guard !bytes.isEmpty else { continue }
                bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            case 6:
                guard !bytes.isEmpty else { continue }
                let start = Int.random(in: 0..<bytes.count, using: &random)
                bytes.removeSubrange(start..<min(bytes.count, start + Int.random(in: 1...20, using: &random)))
            case 7:
                let at = Int.random(in: 0...bytes.count, using: &random)
                bytes.insert(contentsOf: [0xC3, 0x28, 0xFF, 0xFE, 0x00].shuffled(using: &random).prefix(Int.random(in: 1...5, using: &random)), at: at)
            default:
                bytes = Array(
                    text.replacingOccurrences(of: "\"v\":1", with: ["\"v\":2", "\"v\":\"1\"", "\"v\":1.0", ""][Int.random(in: 0..<4, using: &random)]).utf8)
            }
        }
        return bytes.map { $0 == 10 ? 0x20 : $0 }
    }

    func testDecodingRandomAndMutatedRequestLines() throws {
        var random = Random(state: Self.seed)
        let started = Date()
        var cases = 0, decoded = 0
        var codes: [AgentErrorCode: Int] = [:]
        while cases < Self.maxCases && Date().timeIntervalSince(started) < Self.seconds {
            cases += 1
            let line = Self.line(&random)
            do {
                let request = try WireCodec.decodeRequest(line)
                decoded += 1
                XCTAssertNoThrow(try request.operation.checkBounds(), "a decoded request is in range: \(String(decoding: line, as: UTF8.self))")
                XCTAssertFalse(request.id.isEmpty)
            } catch {
                codes[error.error.code, default: 0] += 1
                XCTAssertFalse(error.error.message.isEmpty)
            }
        }
        print(
            "fuzz: agent request decoding: \(cases) cases (seed \(Self.seed)), \(decoded) decoded, refused: "
                + codes.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue) \($0.value)" }.joined(separator: ", "))
        XCTAssertGreaterThan(cases, min(100, Self.maxCases - 1))
        if cases >= 500 {
            XCTAssertGreaterThan(codes[.invalidArguments] ?? 0, 0, "out-of-range numbers were generated and refused")
            XCTAssertGreaterThan(codes[.malformedRequest] ?? 0, 0)
            XCTAssertGreaterThan(decoded, 0)
        }
    }

    func testTheRequestLoopAnswersEveryServedLineOnce() throws {
        var random = Random(state: Self.seed ^ 0xA5A5)
        let started = Date()
        var cases = 0, lines = 0
        let facts = HostFacts(hostname: "FUZZ", operatingSystem: "Test", processID: 1)
        let huge = String(repeating: "h", count: WireCodec.maxLineBytes)
        var inspections = 0
        while cases < max(1, Self.maxCases / 50) && Date().timeIntervalSince(started) < Self.seconds {
            cases += 1
            var input: [UInt8] = []
            for _ in 0..<Int.random(in: 1...12, using: &random) {
                input += Self.line(&random) + [10]
                if Int.random(in: 0..<150, using: &random) == 0 { input += [UInt8](repeating: 0x7B, count: WireCodec.maxLineBytes + 1) + [10] }
            }
            if Bool.random(using: &random) { input.removeLast() }  // a last line without its newline
            // What the loop should serve: every non-blank framed line, up to the one that ends the session.
            var framer = LineFramer()
            var items = framer.feed(input)
            if let rest = framer.finish() { items.append(rest) }
            var expected = 0
            for item in items {
                if case let .line(bytes) = item, bytes.allSatisfy({ $0 == 32 || $0 == 9 }) { continue }
                expected += 1
                guard case let .line(bytes) = item else { continue }
                if case .shutdown? = (try? WireCodec.decodeRequest(bytes))?.operation { break }
                do { _ = try WireCodec.decodeRequest(bytes) } catch { if error.error.code == .versionMismatch { break } }
            }
            lines += expected
            var chunks: [[UInt8]] = []
            var offset = 0
            while offset < input.count {
                let size = Int.random(in: 1...65_536, using: &random)
                chunks.append(Array(input[offset..<min(input.count, offset + size)]))
                offset += size
            }
            var output: [UInt8] = []
            let loop = RequestLoop(
                hello: { Hello(host: facts) },
                perform: { operation, progress in
                    switch operation {
                    case .ping, .shutdown:
                        return .ok(operation == .shutdown ? .shutdown : .pong(Pong(agentTimeMilliseconds: 0)))
                    case .inspect:
                        // Every fourth: an answer over the line limit (and a progress message far over its own).
                        inspections += 1
                        let problem = inspections % 4 == 0 ? huge : "no OutSystems here"
                        progress(ProgressEvent(step: "inspect", message: problem))
                        return .ok(.inspection(ServerInspection(host: facts, platformProblem: problem)))
                    case .serviceStatus:
                        return .ok(.services(operation: .serviceStatus, ServiceReport(services: [])))
                    default:
                        return .failure(AgentError(.notFound, "not on this test machine"))
                    }
                },
                readChunk: { chunks.isEmpty ? nil : chunks.removeFirst() },
                writeLine: { output += $0 }, log: AgentLog(write: { _ in }))
            try loop.run()
            var reader = LineFramer()
            let messages = try reader.feed(output).map { item -> AgentMessage in
                guard case let .line(bytes) = item else { throw WireError.oversizeLine(byteCount: 0) }
                return try WireCodec.decodeAgentMessage(bytes)
            }
            XCTAssertEqual(messages.first, .hello(Hello(host: facts, heartbeatSeconds: RequestLoop.defaultHeartbeatSeconds)))
            let results = messages.filter { if case .result = $0 { return true } else { return false } }
            XCTAssertEqual(results.count, expected, "one result per served line")
        }
        print("fuzz: agent request loop: \(cases) sessions, \(lines) lines (seed \(Self.seed))")
        XCTAssertGreaterThan(cases, min(10, Self.maxCases / 50))
    }
}
