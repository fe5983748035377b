import FarmProtocol
@testable import FarmSimulator
import Foundation
import XCTest

/// state.json is read and written by hand (`ServerState(stateJSON:)`, `stateJSON`, for the
/// emulated programs' start-up cost), and ServerState is still Codable: all four must agree on
/// every field.
final class StateFileTests: XCTestCase {
    /// A server's state with every optional set and every collection non-empty, so that each
    /// field the encoder can write is written.
    private func fullState() throws -> ServerState {
        let farm = try InProcessFarm(frontEnds: 1)
        defer { farm.shutdown() }
        var state = try farm.store("dc1").read()
        state.services[0].processID = 4242
        state.services[0].pendingUntil = 1_796_530_830.244215
        state.services[0].runningSince = 0.1 + 0.2
        state.services[1].state = .stopPending
        state.faults.stuckStopping = ["W3SVC"]
        state.faults.failingStart = ["WAS", "OutSystems Log Service"]
        state.faults.configurationToolFailure = "Tab\tquote\" backslash\\ newline\n é 漢字 🙂 \u{01}"
        state.faults.slowdown = 2.5e-3
        state.faults.configurationToolOrphanSeconds = 12
        state.faults.iisHostBinding = "www.farm.test"
        state.faults.forceHTTPS = true
        state.faults.httpsBinding = SimulatedHTTPSBinding(
            port: 443,
            certificate: SimulatedCertificate(
                subject: "CN=dc1", thumbprint: String(repeating: "AB", count: 20), dnsNames: ["dc1", "dc1.farm.test"], inMachineStore: true,
                trusted: false))
        state.faults.sessionNetworkCredentials = false
        state.lastConfigurationTool = ConfigurationToolRecord(switches: ["/upgradeinstall"], exitCode: -1, message: "failed", finishedAt: 1e9)
        state.measuredTimings = SimulatedTimings(stopSeconds: 1, startSeconds: 2.5, initialisationSeconds: 0, iisSeconds: 0.125, configurationToolSeconds: 90)
        state.language = .german
        return state
    }

    func testTheHandReaderAndJSONDecoderReadTheSameStateFromWhatTheWriterWrote() throws {
        let state = try fullState()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(state)
        XCTAssertEqual(try ServerState(stateJSON: [UInt8](data)), state)
        XCTAssertEqual(try JSONDecoder().decode(ServerState.self, from: data), state)
        // Compact output too (no spaces, escaped slashes as JSONEncoder writes them by default).
        XCTAssertEqual(try ServerState(stateJSON: [UInt8](try JSONEncoder().encode(state))), state)
    }

    /// What the hand writer writes (state.json since it replaced JSONEncoder there) reads back
    /// to the same state with JSONDecoder and with the hand reader; so does a state with every
    /// optional left out, and a string with every kind of character JSON escapes.
    func testTheHandWriterWritesWhatBothReadersReadBack() throws {
        let full = try fullState()
        var bare = full
        bare.services[0].processID = nil
        bare.services[0].pendingUntil = nil
        bare.services[0].runningSince = nil
        bare.faults = InjectedFaults()
        bare.lastConfigurationTool = nil
        bare.measuredTimings = nil
        for state in [full, bare] {
            let text = state.stateJSON
            XCTAssertEqual(try ServerState(stateJSON: Array(text.utf8)), state)
            XCTAssertEqual(try JSONDecoder().decode(ServerState.self, from: Data(text.utf8)), state)
        }
        XCTAssertFalse(bare.stateJSON.contains("lastConfigurationTool"), "nil is left out, as JSONEncoder left it out")
        let numbers = PlainJSON.array([.number(1884), .number(-0.5), .number(1_796_530_830.244215), .number(0.1 + 0.2), .number(1e-7), .number(1e300)])
        guard case let .array(back) = try PlainJSON(parsing: Array(numbers.text().utf8)) else { return XCTFail("not an array") }
        guard case let .array(sent) = numbers else { return }
        for (one, other) in zip(sent, back) {
            guard case let .number(a) = one, case let .number(b) = other else { return XCTFail("\(one) \(other)") }
            XCTAssertEqual(a.bitPattern, b.bitPattern, "\(a) reads back as \(b)")
        }
        XCTAssertEqual(numbers.text(), "[1884,-0.5,1796530830.244215,0.30000000000000004,1e-07,1e+300]")
    }

    /// The process keeps the last state it parsed with the bytes it came from: a file changed
    /// behind it (here in place, by another writer than the store) is read anew.
    func testAStateFileChangedBehindTheStoreIsReadAgain() throws {
        let farm = try InProcessFarm(frontEnds: 1)
        defer { farm.shutdown() }
        let store = try farm.store("dc1")
        var state = try store.read()
        XCTAssertEqual(try store.read(), state)
        state.nextProcessID += 4
        state.faults.iisHostBinding = "changed.farm.test"
        try Data(state.stateJSONBytes).write(to: URL(fileURLWithPath: store.serverDirectory + "/state.json"))
        let again = try store.read()
        XCTAssertEqual(again.nextProcessID, state.nextProcessID)
        XCTAssertEqual(again.faults.iisHostBinding, "changed.farm.test")
    }

    /// The round trip above proves only the fields it sets: every optional in the full state is
    /// set and every array has an element, so a field added later fails here until it is read.
    func testTheFullStateSetsEveryField() throws {
        func unset(_ value: Any, path: String) -> [String] {
            let mirror = Mirror(reflecting: value)
            if mirror.displayStyle == .optional {
                guard let wrapped = mirror.children.first?.value else { return [path] }
                return unset(wrapped, path: path)
            }
            if mirror.displayStyle == .collection {
                guard let first = mirror.children.first?.value else { return [path + " (empty)"] }
                return unset(first, path: path + "[0]")
            }
            if mirror.displayStyle == .dictionary {
                return mirror.children.isEmpty ? [path + " (empty)"] : []
            }
            guard mirror.displayStyle == .struct else { return [] }
            return mirror.children.flatMap { unset($0.value, path: path + "." + ($0.label ?? "?")) }
        }
        var state = try fullState()
        state.services = [state.services[0]]
        XCTAssertEqual(unset(state, path: "state"), [])
    }

    func testAKeyTheReaderDoesNotKnowIsRefusedByItsPath() throws {
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: try JSONEncoder().encode(try fullState())) as? [String: Any])
        var faults = try XCTUnwrap(object["faults"] as? [String: Any])
        faults["newFault"] = true
        object["faults"] = faults
        let data = try JSONSerialization.data(withJSONObject: object)
        XCTAssertThrowsError(try ServerState(stateJSON: [UInt8](data))) { error in
            XCTAssertEqual("\(error)", "state.faults.newFault is not a key this simulator knows")
        }
    }

    func testAFieldOfTheWrongTypeOrMissingIsNamed() throws {
        let data = try JSONEncoder().encode(try fullState())
        var text = String(decoding: data, as: UTF8.self)
        text = text.replacingOccurrences(of: "\"nextProcessID\":", with: "\"nextProcessID\":\"x\",\"was\":")
        XCTAssertThrowsError(try ServerState(stateJSON: Array(text.utf8))) { error in
            XCTAssertTrue("\(error)".contains("state."), "\(error)")
        }
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        var services = try XCTUnwrap(object["services"] as? [[String: Any]])
        services[1]["state"] = "HALF_RUNNING"
        services[2]["initialised"] = nil
        object["services"] = services
        XCTAssertThrowsError(try ServerState(stateJSON: [UInt8](try JSONSerialization.data(withJSONObject: object)))) { error in
            XCTAssertEqual("\(error)", "state.services[1].state is not a known value (HALF_RUNNING)")
        }
        services[1]["state"] = "RUNNING"
        object["services"] = services
        XCTAssertThrowsError(try ServerState(stateJSON: [UInt8](try JSONSerialization.data(withJSONObject: object)))) { error in
            XCTAssertEqual("\(error)", "state.services[2].initialised is missing")
        }
    }

    func testPlainJSONReadsWhatRFC8259Allows() throws {
        let text = #" { "a" : [1, -2.5e3, 0.1, true, false, null, "\u00e9\ud83d\ude42\/\"\\\b\f\n\r\t"], "b": {}, "c": [] } "#
        guard case let .object(members) = try PlainJSON(parsing: Array(text.utf8)) else { return XCTFail("not an object") }
        XCTAssertEqual(members.map(\.name), ["a", "b", "c"])
        guard case let .array(values) = members[0].value, values.count == 7 else { return XCTFail("a is not the array") }
        guard case .number(1) = values[0], case .number(-2500) = values[1], case .number(0.1) = values[2], case .bool(true) = values[3],
            case .bool(false) = values[4], case .null = values[5], case let .string(escaped) = values[6]
        else { return XCTFail("\(values)") }
        XCTAssertEqual(escaped, "é🙂/\"\\\u{08}\u{0C}\n\r\t")
        guard case let .string(lone) = try PlainJSON(parsing: Array(#""\ud800x""#.utf8)) else { return XCTFail("not a string") }
        XCTAssertEqual(lone, "\u{FFFD}x")
    }

    func testPlainJSONRefusesWhatIsNotJSONWithTheOffset() {
        let bad = [
            "", "{", "[1,]", "{\"a\" 1}", "\"open", "\"tab\there\"", "tru", "1 2", "\"\\x\"", "\"\\u12\"", "nan",
            String(repeating: "[", count: 100) + String(repeating: "]", count: 100),
        ]
        for text in bad {
            XCTAssertThrowsError(try PlainJSON(parsing: Array(text.utf8)), text) { error in
                XCTAssertTrue("\(error)".hasPrefix("not JSON at byte "), "\(text): \(error)")
            }
        }
    }
}
