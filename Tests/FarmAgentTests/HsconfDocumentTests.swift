import FarmAgent
import FarmProtocol
import Foundation
import XCTest

final class HsconfDocumentTests: XCTestCase {
    static let sample = """
        <?xml version="1.0" encoding="utf-8"?>\r
        <!-- <PlatformDatabaseConfiguration><Server>commented-out</Server></PlatformDatabaseConfiguration> -->\r
        <EnvironmentConfiguration>\r
          <PlatformDatabaseConfiguration ProviderKey="SqlServer">\r
            <UsedAuthenticationMode>Database Authentication</UsedAuthenticationMode>\r
            <Server>sqlold.corp.example</Server>\r
            <Catalog>outsystems</Catalog>\r
            <AdminPassword encrypted="true">$2$AAAAAAAAAAAAAAAAAAAAAA==c2VjcmV0</AdminPassword>\r
            <RuntimeAdvancedSettings>Application Name=OS &amp; Co</RuntimeAdvancedSettings>\r
          </PlatformDatabaseConfiguration>\r
          <LoggingDatabaseConfiguration ProviderKey='SqlServer'>\r
            <Server>sqlold.corp.example</Server>\r
            <Catalog/>\r
          </LoggingDatabaseConfiguration>\r
          <SessionDatabaseConfiguration ProviderKey="SqlServer">\r
            <ServerName>not-this</ServerName>\r
            <Server>sqlold.corp.example\\SESSIONS</Server>\r
            <Catalog>osSession</Catalog>\r
          </SessionDatabaseConfiguration>\r
        </EnvironmentConfiguration>\r

        """

    /// Issue 21: a comment saved in Windows-1252 ("é" as the one byte 0xE9) in a file that declares
    /// utf-8, which .NET's XML reader, and so the Configuration Tool, cannot read.
    func testAByteInvalidInTheDeclaredEncodingIsFoundWithItsLineAndPosition() {
        let utf8 = Array(Self.sample.utf8)
        XCTAssertNil(HsconfEncoding.problem(in: utf8))
        XCTAssertNil(HsconfEncoding.problem(in: Array("<?xml version=\"1.0\"?>\r\n<!-- résumé, ünïcödé, 日本 😀 -->\r\n<E/>".utf8)))
        var legacy = utf8
        let comment = Array("<!-- <Platform".utf8)
        let at = (0...(legacy.count - comment.count)).first { Array(legacy[$0..<$0 + comment.count]) == comment }!
        legacy.replaceSubrange(at + 5..<at + 5, with: Array("r".utf8) + [0xE9] + Array("sum ".utf8))
        XCTAssertEqual(
            HsconfEncoding.problem(in: legacy),
            "line 2, position 7: byte 0xE9 is not UTF-8, the encoding its XML declaration names (utf-8); "
                + "the Configuration Tool stops there (\"Invalid character in the given encoding\")")
        // The same byte in a file that declares Windows-1252 is "é": nothing to say.
        let declared = Array("<?xml version=\"1.0\" encoding=\"Windows-1252\"?>\r\n<!-- r".utf8) + [0xE9] + Array("sum -->".utf8)
        XCTAssertNil(HsconfEncoding.problem(in: declared))
        // No declaration reads as UTF-8; a byte order mark is UTF-8 whatever the declaration says.
        XCTAssertTrue(HsconfEncoding.problem(in: Array("<E>".utf8) + [0xC3] + Array("</E>".utf8))?.hasPrefix("line 1, position 4: byte 0xC3") ?? false)
        XCTAssertNotNil(HsconfEncoding.problem(in: [0xEF, 0xBB, 0xBF] + Array("<?xml version=\"1.0\" encoding=\"windows-1252\"?><E>".utf8) + [0xE9]))
        // Ill-formed sequences: overlong, a surrogate, past U+10FFFF, cut short at the end.
        for bad: [UInt8] in [[0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82]] {
            XCTAssertNotNil(HsconfEncoding.problem(in: Array("<E>".utf8) + bad), "\(bad)")
        }
    }

    /// Issue 22: the sections in file order, and every secret value's place and form with a
    /// stand-in, never the value (comments are not read as elements).
    func testLayoutHasTheSectionsAndTheSecretsFormsWithoutTheirValues() throws {
        let text =
            Self.sample.replacingOccurrences(
                of: "<Catalog>osSession</Catalog>\r\n",
                with: "<Catalog>osSession</Catalog>\r\n    <!-- <OldPassword>x</OldPassword> -->\r\n    <SessionPassword>Cl3ar&amp;Text</SessionPassword>\r\n")
            + "<!-- trailing -->\r\n"
        let layout = try HsconfDocument(text: text).layout()
        XCTAssertEqual(layout.sections, ["PlatformDatabaseConfiguration", "LoggingDatabaseConfiguration", "SessionDatabaseConfiguration"])
        XCTAssertEqual(
            layout.secrets,
            [
                HsconfSecret(
                    section: "PlatformDatabaseConfiguration", element: "AdminPassword", form: .encrypted,
                    standIn: "$2$AAAAAAAAAAAAAAAAAAAAAA==AAAAAAAA"),
                HsconfSecret(section: "SessionDatabaseConfiguration", element: "SessionPassword", form: .clear, standIn: HsconfSecret.clearStandIn),
            ])
        XCTAssertFalse(layout.allEncrypted)
    }

    func testReadsEndpointsOutsideComments() throws {
        let document = try HsconfDocument(text: Self.sample)
        XCTAssertEqual(
            document.endpoint(.platform),
            DatabaseEndpoint(
                section: .platform, providerKey: "SqlServer", server: "sqlold.corp.example", catalog: "outsystems",
                authenticationMode: "Database Authentication", authentication: .database))
        XCTAssertEqual(document.endpoint(.logging)?.providerKey, "SqlServer")
        XCTAssertEqual(document.endpoint(.logging)?.catalog, "")
        XCTAssertEqual(document.endpoint(.session)?.server, "sqlold.corp.example\\SESSIONS")
        XCTAssertEqual(document.value(section: "PlatformDatabaseConfiguration", child: "RuntimeAdvancedSettings"), "Application Name=OS & Co")
    }

    func testSettingAValueChangesOnlyItsCharacters() throws {
        var document = try HsconfDocument(text: Self.sample)
        XCTAssertEqual(try document.setValue(section: "PlatformDatabaseConfiguration", child: "Server", to: "sqlnew&co,1444"), "sqlold.corp.example")
        let expected = Self.sample.replacingOccurrences(
            of: "<Server>sqlold.corp.example</Server>\r\n    <Catalog>outsystems",
            with: "<Server>sqlnew&amp;co,1444</Server>\r\n    <Catalog>outsystems")
        XCTAssertEqual(document.text, expected)
        XCTAssertEqual(document.value(section: "PlatformDatabaseConfiguration", child: "Server"), "sqlnew&co,1444")
    }

    func testASelfClosingElementGetsItsValue() throws {
        var document = try HsconfDocument(text: Self.sample)
        try document.setValue(section: "LoggingDatabaseConfiguration", child: "Catalog", to: "logs")
        XCTAssertTrue(document.text.contains("<Catalog>logs</Catalog>"), document.text)
        XCTAssertEqual(document.text.count, Self.sample.count - "<Catalog/>".count + "<Catalog>logs</Catalog>".count)
    }

    func testABytesOfALegacyCodePageSurvivesAnEdit() throws {
        // "Café" saved as Windows-1252 (0xE9 is "é" there, and not UTF-8 at all), in a comment and in
        // a value osfarm does not touch.
        var original = Array(Self.sample.utf8)
        let comment = Array("<!-- Caf".utf8) + [0xE9] + Array(" -->\r\n".utf8)
        original.insert(contentsOf: comment, at: original.firstIndex(of: UInt8(ascii: "\n"))! + 1)
        let settings = Array("Application Name=OS &amp; Co".utf8)
        let at = try XCTUnwrap(original.indices.first { original[$0...].starts(with: settings) })
        original.insert(contentsOf: [0x20, 0xE9], at: at + settings.count)
        var document = try HsconfDocument(bytes: original)
        XCTAssertEqual(try document.setValue(section: "PlatformDatabaseConfiguration", child: "Server", to: "sqlnew,1444"), "sqlold.corp.example")
        var expected = original
        let old = Array("<Server>sqlold.corp.example</Server>".utf8)
        let first = try XCTUnwrap(expected.indices.first { expected[$0...].starts(with: old) })
        expected.replaceSubrange(first..<first + old.count, with: Array("<Server>sqlnew,1444</Server>".utf8))
        XCTAssertEqual(document.bytes, expected, "every byte but the value's is as it was, 0xE9 included")
        XCTAssertEqual(document.bytes.filter { $0 == 0xE9 }.count, 2)
        XCTAssertNil(document.data.range(of: Data([0xEF, 0xBF, 0xBD])), "no U+FFFD was written")
    }

    func testAByteOrderMarkAndASelfClosingTagKeepTheirBytes() throws {
        let original = [0xEF, 0xBB, 0xBF] + Array(Self.sample.utf8)
        var document = try HsconfDocument(bytes: original)
        try document.setValue(section: "LoggingDatabaseConfiguration", child: "Catalog", to: "logs")
        XCTAssertEqual(Array(document.bytes.prefix(3)), [0xEF, 0xBB, 0xBF])
        XCTAssertEqual(document.text, "\u{FEFF}" + Self.sample.replacingOccurrences(of: "<Catalog/>", with: "<Catalog>logs</Catalog>"))
    }

    func testMissingPartsAreClearErrors() throws {
        var document = try HsconfDocument(text: Self.sample)
        XCTAssertThrowsError(try document.setValue(section: "NoSuchSection", child: "Server", to: "x")) {
            XCTAssertEqual("\($0)", "server.hsconf has no <NoSuchSection> section")
        }
        XCTAssertThrowsError(try document.setValue(section: "SessionDatabaseConfiguration", child: "Port", to: "1")) {
            XCTAssertEqual("\($0)", "server.hsconf has no <Port> in <SessionDatabaseConfiguration>")
        }
        XCTAssertThrowsError(try HsconfDocument(text: "<Other/>"))
    }

    func testRoleFromServices() {
        func services(_ controller: (ServiceState, ServiceStartType)?, running: Bool) -> [ServiceStatus] {
            var list = [
                ServiceStatus(name: "OutSystems Deployment Service", state: running ? .running : .stopped, startType: .automatic),
                ServiceStatus(name: "OutSystems Scheduler Service", state: running ? .running : .stopped, startType: .automatic),
            ]
            if let controller { list.append(ServiceStatus(name: "OutSystems Deployment Controller Service", state: controller.0, startType: controller.1)) }
            return list
        }
        XCTAssertEqual(RoleReading.role(services((.running, .automatic), running: true)).0, .deploymentController)
        XCTAssertEqual(RoleReading.role(services((.running, .automatic), running: true)).1, "Deployment Controller with a Front-end")
        XCTAssertEqual(RoleReading.role(services((.stopped, .automatic), running: false)).0, .deploymentController)
        XCTAssertEqual(RoleReading.role(services((.stopped, .disabled), running: true)).1, "Front-end")
        XCTAssertNil(RoleReading.role([]).0)
    }
}
