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

    func testReadsEndpointsOutsideComments() throws {
        let document = try HsconfDocument(text: Self.sample)
        XCTAssertEqual(document.endpoint(.platform),
                       DatabaseEndpoint(section: .platform, providerKey: "SqlServer", server: "sqlold.corp.example", catalog: "outsystems",
                                        authenticationMode: "Database Authentication", authentication: .database))
        XCTAssertEqual(document.endpoint(.logging)?.providerKey, "SqlServer")
        XCTAssertEqual(document.endpoint(.logging)?.catalog, "")
        XCTAssertEqual(document.endpoint(.session)?.server, "sqlold.corp.example\\SESSIONS")
        XCTAssertEqual(document.value(section: "PlatformDatabaseConfiguration", child: "RuntimeAdvancedSettings"), "Application Name=OS & Co")
    }

    func testSettingAValueChangesOnlyItsCharacters() throws {
        var document = try HsconfDocument(text: Self.sample)
        XCTAssertEqual(try document.setValue(section: "PlatformDatabaseConfiguration", child: "Server", to: "sqlnew&co,1444"), "sqlold.corp.example")
        let expected = Self.sample.replacingOccurrences(of: "<Server>sqlold.corp.example</Server>\r\n    <Catalog>outsystems",
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
            var list = [ServiceStatus(name: "OutSystems Deployment Service", state: running ? .running : .stopped, startType: .automatic),
                        ServiceStatus(name: "OutSystems Scheduler Service", state: running ? .running : .stopped, startType: .automatic)]
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
