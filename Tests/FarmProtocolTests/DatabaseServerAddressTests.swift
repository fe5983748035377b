import FarmProtocol
import Foundation
import XCTest

/// The typed database address: what it accepts, what it refuses and why, and how it travels.
final class DatabaseServerAddressTests: XCTestCase {
    private func parse(_ text: String) throws -> DatabaseServerAddress { try DatabaseServerAddress(parsing: text) }

    private func problem(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            let address = try DatabaseServerAddress(parsing: text)
            XCTFail("\(text) parsed as \(address)", file: file, line: line)
            return ""
        } catch {
            XCTAssertNil(DatabaseServerAddress(text), file: file, line: line)
            return error.description
        }
    }

    func testTheFormsSqlServerTakes() throws {
        XCTAssertEqual(try parse("sqlnew"), try DatabaseServerAddress(host: "sqlnew"))
        XCTAssertEqual(try parse("sqlnew").portWithoutBrowser, 1433)
        let named = try parse("sql-new.corp.example\\OS_PROD$1")
        XCTAssertEqual(named.host, "sql-new.corp.example")
        XCTAssertEqual(named.instance, "OS_PROD$1")
        XCTAssertNil(named.port, "no port given: whether one was given matters")
        XCTAssertNil(named.portWithoutBrowser, "a named instance without a port needs Browser")
        let both = try parse("10.0.0.5\\INST,51433")
        XCTAssertEqual(both.port, 51433)
        XCTAssertEqual(both.portWithoutBrowser, 51433)
        XCTAssertEqual(try parse("sqlnew,1433").port, 1433, "a given 1433 is kept as given")
        XCTAssertEqual(try parse("[fe80::1],1433").host, "[fe80::1]")
        XCTAssertEqual(try parse("(local)").host, "(local)")
        XCTAssertEqual(try parse("db_01.example").host, "db_01.example")
    }

    /// SqlClient's data source grammar (dotnet/SqlClient SNIProxy.cs, class DataSource): a colon
    /// starts a protocol only after tcp, np or admin; otherwise the host is an IPv6 literal.
    func testIPv6LiteralsBareOrBracketedWithAPortOrAnInstance() throws {
        let loopback = try parse("::1")
        XCTAssertEqual(loopback.host, "::1")
        XCTAssertEqual(loopback.networkHost, "::1")
        XCTAssertEqual(loopback.portWithoutBrowser, 1433)
        let withPort = try parse("::1,1433")
        XCTAssertEqual(withPort.host, "::1")
        XCTAssertEqual(withPort.port, 1433)
        XCTAssertEqual(withPort.description, "::1,1433")
        let bracketed = try parse("[::1],51433")
        XCTAssertEqual(bracketed.networkHost, "::1", "a socket takes it without brackets")
        XCTAssertEqual(bracketed.port, 51433)
        XCTAssertEqual(try parse("2001:db8::8:800:200c:417a\\INST").instance, "INST")
        XCTAssertEqual(try parse("abc::1").host, "abc::1", "hex letters before a colon are an address, not a protocol")
        XCTAssertEqual(try parse("::ffff:10.0.0.5,1433").host, "::ffff:10.0.0.5")
        XCTAssertEqual(try parse("1:2:3:4:5:6:7:8").host, "1:2:3:4:5:6:7:8")
        XCTAssertEqual(try parse("[fe80::1]").host, "[fe80::1]")
        for bad in [":::1", "1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3", "12345::1", "::1.2.3", "::256.1.1.1", "[::g]", "fe80::1%eth0"] {
            XCTAssertNil(DatabaseServerAddress(bad), bad)
        }
        XCTAssertEqual(problem("1::2::3"), "the host \"1::2::3\" has a colon but is not an IPv6 address (eight groups of hex digits, one :: at most)")
        XCTAssertEqual(problem("NP:sqlnew"), "the protocol prefix \"NP:\" is not supported; give host, host\\INSTANCE or host,port")
        XCTAssertEqual(problem("admin:sqlnew"), "the protocol prefix \"admin:\" is not supported; give host, host\\INSTANCE or host,port")
    }

    func testTheCanonicalDescriptionNamesThePortOnlyWhenGiven() throws {
        for text in ["sqlnew", "sqlnew\\INST", "sqlnew,1433", "sqlnew\\INST,50000", "10.0.0.5,1434"] {
            XCTAssertEqual(try parse(text).description, text)
        }
        XCTAssertTrue(try parse("SQLNEW\\inst").sameServer(as: try parse("sqlnew\\INST")))
        XCTAssertTrue(try parse("sqlnew").sameServer(as: try parse("SqlNew,1433")))
        XCTAssertFalse(try parse("sqlnew\\A").sameServer(as: try parse("sqlnew\\B")))
    }

    func testStrictParsingSaysWhatIsWrong() {
        XCTAssertEqual(problem(""), "it is empty")
        XCTAssertEqual(problem("sql new"), "it contains a space")
        XCTAssertEqual(problem("sqlnew\t"), "it contains the control character U+9")
        XCTAssertEqual(problem("sqlnew\n"), "it contains the control character U+A")
        XCTAssertEqual(problem(",1433"), "the host is empty")
        XCTAssertEqual(problem("\\INST"), "the host is empty")
        XCTAssertEqual(problem("sqlnew,1433,1434"), "it gives more than one port (more than one comma)")
        XCTAssertEqual(problem("sqlnew,"), "the port after the comma is empty")
        XCTAssertEqual(problem("sqlnew,14x3"), "the port \"14x3\" is not a number")
        XCTAssertEqual(problem("sqlnew,-1"), "the port \"-1\" is not a number")
        XCTAssertEqual(problem("sqlnew,0"), "the port 0 is not 1–65535")
        XCTAssertEqual(problem("sqlnew,65536"), "the port 65536 is not 1–65535")
        XCTAssertEqual(problem("sqlnew,99999999999999999999999"), "the port 99999999999999999999999 is not 1–65535")
        XCTAssertEqual(problem("sqlnew\\"), "the instance after the backslash is empty")
        XCTAssertEqual(problem("sqlnew\\,1433"), "the instance after the backslash is empty")
        XCTAssertEqual(problem("sqlnew\\A\\B"), "it names more than one instance (more than one backslash)")
        XCTAssertEqual(problem("sqlnew\\ABCDEFGHIJKLMNOPQ"), "the instance \"ABCDEFGHIJKLMNOPQ\" has 17 characters; SQL Server allows 16")
        XCTAssertEqual(problem("sqlnew\\1INST"), "the instance starts with \"1\"; SQL Server instance names start with a letter")
        XCTAssertEqual(problem("sqlnew\\MY-INST"), "the instance contains \"-\", which SQL Server instance names cannot hold")
        XCTAssertEqual(problem("sqlnew\\A@B"), "the instance contains \"@\", which SQL Server instance names cannot hold")
        XCTAssertEqual(problem("sql;new"), "the host contains \";\", which a host name cannot hold")
        XCTAssertEqual(problem("sql'new"), "the host contains \"'\", which a host name cannot hold")
        XCTAssertEqual(problem("tcp:sqlnew,1433"), "the protocol prefix \"tcp:\" is not supported; give host, host\\INSTANCE or host,port")
        XCTAssertEqual(problem(String(repeating: "a", count: 256)), "the host has 256 characters; a host name has at most 255")
    }

    func testItTravelsAsItsPartsAndRefusesBadOnes() throws {
        let address = try parse("sqlnew\\INST")
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let data = try encoder.encode(address)
        XCTAssertEqual(String(decoding: data, as: UTF8.self), #"{"host":"sqlnew","instance":"INST"}"#)
        XCTAssertEqual(try JSONDecoder().decode(DatabaseServerAddress.self, from: data), address)
        XCTAssertEqual(try JSONDecoder().decode(DatabaseServerAddress.self, from: Data(#"{"host":"sqlnew","port":1433}"#.utf8)).port, 1433)
        XCTAssertThrowsError(try JSONDecoder().decode(DatabaseServerAddress.self, from: Data(#"{"host":"sql new"}"#.utf8)))
        XCTAssertThrowsError(try JSONDecoder().decode(DatabaseServerAddress.self, from: Data(#"{"host":"sqlnew","port":70000}"#.utf8)))
        XCTAssertThrowsError(try JSONDecoder().decode(DatabaseServerAddress.self, from: Data(#"{"host":"sqlnew","instance":""}"#.utf8)))
    }

    func testTheNewOperationsTravelAndTheIntegratedPasswordIsRedactedInRecords() throws {
        let probe = Request(id: "9", operation: .probeDatabase(DatabaseProbeArguments(address: try parse("sqlnew\\INST"), timeoutSeconds: 2)))
        XCTAssertEqual(try WireCodec.decodeRequest(Array(try WireCodec.encode(probe).dropLast())), probe)
        let info = Request(id: "10", operation: .getPlatformInfo(PlatformInfoArguments()))
        XCTAssertEqual(try WireCodec.decodeRequest(Array(try WireCodec.encode(info).dropLast())), info)
        XCTAssertEqual(
            try WireCodec.decodeRequest(Array(#"{"id":"11","op":"get-platform-info","v":1}"#.utf8)),
            Request(id: "11", operation: .getPlatformInfo(PlatformInfoArguments())))

        let secret = Secret("Pa55-Integrated")
        let apply = Request(
            id: "12", operation: .runConfigurationTool(ConfigurationToolArguments(mode: .applySettingsFactory(integratedAuthenticationPassword: secret))))
        let wire = String(decoding: try WireCodec.encode(apply), as: UTF8.self)
        XCTAssertTrue(wire.contains(secret.reveal()), "the wire carries the password")
        XCTAssertEqual(try WireCodec.decodeRequest(Array(Array(wire.utf8).dropLast())), apply)
        XCTAssertFalse(try WireCodec.encodeForRecord(apply).contains(secret.reveal()), "a record never does")
        XCTAssertEqual(ConfigurationToolMode.applySettingsFactory, .applySettingsFactory(integratedAuthenticationPassword: nil))

        // Today's controller does not send killStuckServices: the request reads as before.
        let stop = Request(id: "13", operation: .stopServices(ServiceControlArguments(serviceTimeoutSeconds: 5)))
        XCTAssertEqual(
            String(decoding: try WireCodec.encode(stop), as: UTF8.self), #"{"args":{"serviceTimeoutSeconds":5},"id":"13","op":"stop-services","v":1}"# + "\n")
        let kill = Request(id: "14", operation: .stopServices(ServiceControlArguments(serviceTimeoutSeconds: 5, killStuckServices: true)))
        XCTAssertEqual(try WireCodec.decodeRequest(Array(try WireCodec.encode(kill).dropLast())), kill)
    }
}
