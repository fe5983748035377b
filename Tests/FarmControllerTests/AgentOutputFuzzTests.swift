import FarmController
import FarmProtocol
import Foundation
import XCTest

/// Seeded fuzzing of the controller's reading of agent output: the line framer with its cap and
/// `AgentReplyReader`, fed hostile hellos, results with the wrong or a repeated id, floods of
/// progress events, oversize lines, invalid UTF-8, truncated JSON, late answers to given-up
/// requests, and random damage. No crash, no hang, every line accepted or refused with a typed
/// error; where the script says what should happen (all but the randomly damaged streams), it
/// must happen.
///
/// The seed is fixed (OSFARM_FUZZ_SEED overrides it); the run stops after OSFARM_FUZZ_CASES cases
/// or OSFARM_FUZZ_SECONDS seconds, whichever comes first, and prints how many it ran.
final class AgentOutputFuzzTests: XCTestCase {
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

    private static let facts = HostFacts(hostname: "OSFE01", operatingSystem: "Windows Server 2022", processID: 4242)

    /// How the agent answers one request.
    private enum Behaviour: CaseIterable {
        case normal, typedError, flood, wrongID, repeatedID, nilID, otherOperation, oversize, invalidUTF8, truncated, silence, late
    }

    /// What the controller must make of it.
    private enum Outcome: Equatable {
        case ok, agentError, violation, ended, abandoned
    }

    private static let operations: [(AgentOperation, ResultData)] = [
        (.ping(PingArguments()), .pong(Pong(agentTimeMilliseconds: 1))),
        (.inspect, .inspection(ServerInspection(host: facts, platformProblem: "no OutSystems"))),
        (.serviceStatus, .services(operation: .serviceStatus, ServiceReport(services: []))),
        (.listBackups(BackupListArguments()), .backupListing(BackupListing(root: #"C:\ProgramData\osfarm\backups"#, runs: []))),
    ]

    private static func line(_ message: AgentMessage) -> [UInt8] {
        (try? WireCodec.encode(message)) ?? Array("{}\n".utf8)
    }

    /// Progress lines for the ids the scripts use, encoded once (floods repeat them thousands of times).
    private static let progressLines: [String: [UInt8]] = Dictionary(
        uniqueKeysWithValues: (1...6).map { number in
            (String(number), line(.progress(requestID: String(number), ProgressEvent(step: "work", message: "still working"))))
        })

    private static func progress(_ id: String) -> [UInt8] { progressLines[id] ?? [] }

    /// A hello, valid or hostile; true when it is valid and compatible.
    private static func hello(_ random: inout Random) -> (bytes: [UInt8], valid: Bool) {
        let valid = line(.hello(Hello(host: facts)))
        switch Int.random(in: 0..<24, using: &random) {
        case 0: return (Array(#"{"type":"hello","agentVersion":"0.1.0","host":{"hostname":"x","operatingSystem":"y","processID":1}}"#.utf8) + [10], false)
        case 1: return (line(.hello(Hello(protocolVersion: ProtocolVersion(major: 2, minor: 0), host: facts))), false)
        case 2: return (line(.result(requestID: "1", .ok(.shutdown))), false)
        case 3: return ((0..<Int.random(in: 1...300, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) } + [10], false)
        case 4:
            return (
                Array(#"{"type":"hello","agentVersion":"0.1.0","protocol":{"major":1,"minor":0},"host":{"hostname":""#.utf8) + [0xFF, 0xC0]
                    + Array(#"","operatingSystem":"y","processID":1}}"#.utf8) + [10], false
            )
        case 5: return (Array(valid.prefix(valid.count / 2)) + [10], false)
        default: return (valid, true)
        }
    }

    private struct Script {
        var stream: [UInt8] = []
        var requests: [(id: String, operation: AgentOperation, behaviour: Behaviour, progress: Int)] = []
        var damaged = false
    }

    private static func script(_ random: inout Random, cap: Int) -> (Script, helloValid: Bool) {
        var script = Script()
        let (helloBytes, helloValid) = hello(&random)
        script.stream = helloBytes
        var answered: [String] = []
        for index in 0..<Int.random(in: 1...6, using: &random) {
            let id = String(index + 1)
            let (operation, data) = operations[Int.random(in: 0..<operations.count, using: &random)]
            var behaviour = Behaviour.allCases[Int.random(in: 0..<Behaviour.allCases.count, using: &random)]
            if behaviour == .repeatedID && answered.isEmpty { behaviour = .wrongID }
            var progressCount = Int.random(in: 0...3, using: &random)
            let result = line(.result(requestID: id, .ok(data)))
            switch behaviour {
            case .normal:
                script.stream += (0..<progressCount).flatMap { _ in progress(id) } + result
            case .typedError:
                script.stream += progress(id) + line(.result(requestID: id, .failure(AgentError(.notFound, "no such thing"))))
                progressCount = 1
            case .flood:
                progressCount = Int.random(in: 50...600, using: &random)
                script.stream += Array((0..<progressCount).map { _ in progress(id) }.joined()) + result
            case .wrongID:
                script.stream += line(.result(requestID: String(index + 7), .ok(data)))
            case .repeatedID:
                script.stream += line(.result(requestID: answered[Int.random(in: 0..<answered.count, using: &random)], .ok(data)))
            case .nilID:
                script.stream += line(.result(requestID: nil, .failure(AgentError(.malformedRequest, "the request line is not valid JSON"))))
            case .otherOperation:
                script.stream += line(.result(requestID: id, .ok(.shutdown)))
            case .oversize:
                script.stream +=
                    [UInt8](repeating: UInt8(ascii: "{"), count: cap + Int.random(in: 1...1000, using: &random))
                    + (Bool.random(using: &random) ? [10] : [])
            case .invalidUTF8:
                var bytes = result
                bytes.insert(contentsOf: [0xFF, 0xFE, 0xC3], at: bytes.count / 2)
                script.stream += bytes
            case .truncated:
                // Cut before its closing brace (the last byte is the newline).
                script.stream += Array(result.prefix(Int.random(in: 1..<(result.count - 1), using: &random))) + [10]
            case .silence:
                break
            case .late:
                // Some progress, the controller gives up, then the late answer arrives.
                script.stream += (0..<progressCount).flatMap { _ in progress(id) } + result
            }
            script.requests.append((id, operation, behaviour, progressCount))
            if [.normal, .typedError, .flood].contains(behaviour) { answered.append(id) }
            if ![.normal, .typedError, .flood, .late].contains(behaviour) { break }
        }
        return (script, helloValid)
    }

    private static func expected(_ behaviour: Behaviour) -> Outcome {
        switch behaviour {
        case .normal, .flood: return .ok
        case .typedError: return .agentError
        case .silence: return .ended
        case .late: return .abandoned
        case .wrongID, .repeatedID, .nilID, .otherOperation, .oversize, .invalidUTF8, .truncated: return .violation
        }
    }

    func testReadingHostileAgentOutput() throws {
        var random = Random(state: Self.seed)
        let started = Date()
        var cases = 0, lines = 0
        var outcomes: [String: Int] = [:]
        while cases < max(1, Self.maxCases / 5) && Date().timeIntervalSince(started) < Self.seconds {
            cases += 1
            // A small line cap most of the time (fast), the real 1 MiB one now and then.
            let cap = Int.random(in: 0..<200, using: &random) == 0 ? WireCodec.maxLineBytes : Int.random(in: 600...4096, using: &random)
            var (script, helloValid) = Self.script(&random, cap: cap)
            if Int.random(in: 0..<5, using: &random) == 0 {
                script.damaged = true
                for _ in 0..<Int.random(in: 1...8, using: &random) where !script.stream.isEmpty {
                    script.stream[Int.random(in: 0..<script.stream.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
                }
            }
            // The agent's output, framed as the channel frames it, in random chunks.
            var framer = LineFramer(maxLineBytes: cap, reportsOversizeAtLimit: true)
            var items: [LineFramer.Item] = []
            var offset = 0
            while offset < script.stream.count {
                let size = Int.random(in: 1...8192, using: &random)
                items += framer.feed(script.stream[offset..<min(script.stream.count, offset + size)])
                offset += size
            }
            if let rest = framer.finish() { items.append(rest) }
            XCTAssertFalse(items.contains { if case let .line(bytes) = $0 { return bytes.count > cap } else { return false } }, "the cap holds")
            lines += items.count
            var next = items.makeIterator()

            guard let first = next.next() else { continue }
            let hello: Hello
            do {
                hello = try AgentReplyReader.hello(from: first)
            } catch {
                guard case .protocolViolation = error else { return XCTFail("\(error)") }
                if !script.damaged { XCTAssertFalse(helloValid, "a valid hello was refused: \(error)") }
                outcomes["refused hello", default: 0] += 1
                continue
            }
            if !hello.protocolVersion.isCompatible(with: .current) {
                outcomes["incompatible hello", default: 0] += 1
                continue
            }
            if !script.damaged { XCTAssertTrue(helloValid, "a hostile hello was taken: \(hello)") }

            var reader = AgentReplyReader()
            requests: for request in script.requests {
                reader.begin(id: request.id, operation: request.operation.name)
                var progress = 0
                var outcome: Outcome?
                while outcome == nil {
                    if request.behaviour == .late && progress == request.progress && !script.damaged {
                        reader.abandonPending()
                        outcome = .abandoned
                        break
                    }
                    guard let item = next.next() else {
                        outcome = .ended
                        break
                    }
                    do {
                        switch try reader.read(item) {
                        case .progress?: progress += 1
                        case let .result(data)?:
                            XCTAssertEqual(data.operationName, request.operation.name)
                            outcome = .ok
                        case nil: break  // a late line of a given-up request
                        }
                    } catch {
                        switch error {
                        case .agentFailed: outcome = .agentError
                        case .protocolViolation: outcome = .violation
                        default: return XCTFail("an error of another kind: \(error)")
                        }
                    }
                }
                let got = outcome ?? .ended
                outcomes["\(got)", default: 0] += 1
                if !script.damaged {
                    XCTAssertEqual(got, Self.expected(request.behaviour), "request \(request.id), \(request.behaviour)")
                    if got == .ok || got == .agentError { XCTAssertEqual(progress, request.progress, "every progress event, in order") }
                }
                if got == .violation || got == .ended { break requests }
            }
        }
        print(
            "fuzz: controller reading agent output: \(cases) cases, \(lines) lines (seed \(Self.seed)); "
                + outcomes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        XCTAssertGreaterThan(cases, min(100, Self.maxCases / 5 - 1))
        // With the default budget the fuzz reaches every outcome (a tiny OSFARM_FUZZ_CASES may not).
        for kind in ["ok", "agentError", "violation", "ended", "abandoned", "refused hello"] where cases >= 500 {
            XCTAssertGreaterThan(outcomes[kind] ?? 0, 0, "the fuzz reached \(kind)")
        }
    }
}
