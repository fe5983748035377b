@testable import FarmAgent
import FarmProtocol
import Foundation
import XCTest

/// What inspect reads from server.hsconf and the services, on hand-written inputs.
final class InspectionReadingTests: XCTestCase {
    func testConnectionStringsAreSplitAsADONETWritesThem() {
        let pairs = HsconfFindings.connectionStringPairs("Max Pool Size=100; Failover Partner = sql-old ;Application Name='O''Brien; App';Data Source=\"a;b\"")
        XCTAssertEqual(pairs.map(\.0), ["Max Pool Size", "Failover Partner", "Application Name", "Data Source"])
        XCTAssertEqual(pairs.map(\.1), ["100", "sql-old", "O'Brien; App", "a;b"])
        XCTAssertEqual(HsconfFindings.connectionStringPairs("").count, 0)
    }

    func testEveryPlaceThatNamesAServerIsFoundAndNothingElse() throws {
        let document = try HsconfDocument(
            text: """
                <EnvironmentConfiguration>
                  <PlatformDatabaseConfiguration ProviderKey="SqlServer"><Server>sqlnew</Server>
                    <RuntimeAdvancedSettings>Max Pool Size=10;Failover Partner=sqlold;Password=secret</RuntimeAdvancedSettings>
                    <ServicesAdvancedSettings>Network  Address=10.0.0.9</ServicesAdvancedSettings></PlatformDatabaseConfiguration>
                  <SessionDatabaseConfiguration ProviderKey="SqlServer"><Server>sqlnew</Server>
                    <SessionAdvancedSettings>Addr=sqlold,1433</SessionAdvancedSettings></SessionDatabaseConfiguration>
                  <LoggingDatabaseConfiguration ProviderKey="SqlServer"><Server>sqlnew</Server><RuntimeAdvancedSettings /></LoggingDatabaseConfiguration>
                  <CacheInvalidationConfiguration><ServiceHost>sqlold</ServiceHost></CacheInvalidationConfiguration>
                </EnvironmentConfiguration>
                """)
        XCTAssertEqual(
            HsconfFindings(document: document).serverReferences(),
            [
                ServerReference(location: "PlatformDatabaseConfiguration/RuntimeAdvancedSettings", keyword: "Failover Partner", server: "sqlold"),
                ServerReference(location: "PlatformDatabaseConfiguration/ServicesAdvancedSettings", keyword: "Network  Address", server: "10.0.0.9"),
                ServerReference(location: "SessionDatabaseConfiguration/SessionAdvancedSettings", keyword: "Addr", server: "sqlold,1433"),
                ServerReference(location: "CacheInvalidationConfiguration/ServiceHost", keyword: nil, server: "sqlold"),
            ])
    }

    func testOracleByTNSNameAndAnEncryptedRedisConnection() throws {
        let document = try HsconfDocument(
            text: """
                <EnvironmentConfiguration>
                  <PlatformDatabaseConfiguration ProviderKey="Oracle"><NamingType>TNS Name</NamingType><TNSName>OSPROD</TNSName></PlatformDatabaseConfiguration>
                  <SessionDatabaseConfiguration ProviderKey="Oracle"><IdType>Service Name</IdType><Host>ora1</Host><Port>1521</Port><ServiceName>OS</ServiceName></SessionDatabaseConfiguration>
                  <InMemorySessionConfiguration ProviderKey="Redis"><ConnectionString encrypted="true">$2$abcdefabcdefabcdefabcd==xyz</ConnectionString></InMemorySessionConfiguration>
                </EnvironmentConfiguration>
                """)
        let findings = HsconfFindings(document: document)
        XCTAssertEqual(
            findings.databaseProviders(),
            [
                DatabaseSectionProvider(
                    section: .platform, providerKey: "Oracle",
                    oracle: OracleAddress(namingType: "TNS Name", host: nil, port: nil, serviceName: nil, tnsName: "OSPROD")),
                DatabaseSectionProvider(
                    section: .session, providerKey: "Oracle",
                    oracle: OracleAddress(namingType: "Service Name", host: "ora1", port: "1521", serviceName: "OS", tnsName: nil)),
            ])
        XCTAssertEqual(findings.inMemorySession(), InMemorySessionStorage(providerKey: "Redis", endpoints: [], connectionStringEncrypted: true))
    }

    func testRoleFromServicesAndCompilerServerHostnameTogether() {
        func services(_ start: ServiceStartType, _ state: ServiceState = .stopped) -> [ServiceStatus] {
            [
                ServiceStatus(name: "OutSystems Deployment Controller Service", state: state, startType: start),
                ServiceStatus(name: "OutSystems Deployment Service", state: .stopped, startType: .automatic),
            ]
        }
        func decide(_ start: ServiceStartType, _ state: ServiceState = .stopped, compiler: String?, resolved: [String] = []) -> (ServerRole?, String) {
            let evidence = RoleReading.evidence(
                services: services(start, state), compilerServerHostname: compiler, ownNames: ["fe1", "fe1.corp"],
                ownAddresses: ["10.0.0.11"], compilerAddresses: resolved)
            return RoleReading.decide(evidence, services: services(start, state))
        }
        XCTAssertEqual(decide(.manual, compiler: "dc1.corp", resolved: ["10.0.0.10"]).0, .frontEnd)
        XCTAssertEqual(decide(.manual, compiler: "FE1.corp").0, .deploymentController, "names compare without regard to case")
        XCTAssertEqual(decide(.manual, compiler: "osdc", resolved: ["10.0.0.11"]).0, .deploymentController, "an alias that resolves here")
        XCTAssertEqual(decide(.disabled, compiler: "dc1.corp").0, .frontEnd)
        XCTAssertEqual(decide(.automatic, .running, compiler: "10.0.0.11").0, .deploymentController)
        let conflict = decide(.disabled, compiler: "10.0.0.11")
        XCTAssertNil(conflict.0)
        XCTAssertEqual(
            conflict.1, "undecided: the Deployment Controller service is Disabled, but CompilerServerHostname 10.0.0.11 names this server (10.0.0.11)")
        XCTAssertNil(decide(.automatic, compiler: "dc1.corp").0, "an Automatic controller service on a server the file says is not the controller")
        XCTAssertEqual(decide(.automatic, compiler: nil).0, .deploymentController, "without CompilerServerHostname the services decide")
        let neither = decide(.manual, compiler: nil)
        XCTAssertNil(neither.0)
        XCTAssertEqual(
            neither.1,
            "Unknown role: the Deployment Controller service is Manual and STOPPED, which fits either role; server.hsconf has no CompilerServerHostname")
    }

    func testTheConfigurationToolArgvCarriesTheIntegratedPasswordWhereTheReferenceSays() {
        let secret = Secret("p@ss")
        let upgrade = ConfigurationToolArguments(mode: .upgradeInstall(integratedAuthenticationPassword: secret), installServiceCenter: true)
        XCTAssertEqual(ConfigurationToolRunner.arguments(upgrade), ["/UpgradeInstall", "p@ss", "/InstallServiceCenter", "/WithWindowsAuthentication", "p@ss"])
        XCTAssertEqual(ConfigurationToolRunner.switches(upgrade), "/UpgradeInstall /InstallServiceCenter /WithWindowsAuthentication")
        let plain = ConfigurationToolArguments(mode: .upgradeInstall(integratedAuthenticationPassword: nil), installServiceCenter: true)
        XCTAssertEqual(ConfigurationToolRunner.arguments(plain), ["/UpgradeInstall", "/InstallServiceCenter"])
        let apply = ConfigurationToolArguments(mode: .applySettingsFactory(integratedAuthenticationPassword: secret), installServiceCenter: true)
        XCTAssertEqual(
            ConfigurationToolRunner.arguments(apply), ["/ApplySettingsFactory", "/WithWindowsAuthentication", "p@ss"],
            "ApplySettingsFactory cannot be used with other parameters")
        XCTAssertEqual(ConfigurationToolRunner.arguments(ConfigurationToolArguments(mode: .applySettingsFactory)), ["/ApplySettingsFactory"])
        XCTAssertEqual(ConfigurationToolRunner.redact("echo p@ss and p@ss", ["p@ss"]), "echo <redacted> and <redacted>")
    }

    func testTheProgramOfAnImagePath() {
        XCTAssertEqual(StuckServiceKiller.program(inImagePath: #""C:\Program Files\OutSystems\Platform Server\Scheduler\Scheduler.exe""#), "Scheduler.exe")
        XCTAssertEqual(StuckServiceKiller.program(inImagePath: #"C:\Program Files\OutSystems\Platform Server\LogServer.exe -service"#), "LogServer.exe")
        XCTAssertEqual(StuckServiceKiller.program(inImagePath: #"%SystemRoot%\system32\svchost.exe -k iissvcs"#), "svchost.exe")
        XCTAssertNil(StuckServiceKiller.program(inImagePath: ""))
    }
}

/// Issue 22: IIS's bindings as applicationHost.config has them.
final class IISBindingReadingTests: XCTestCase {
    func testEverySitesBindingsAreReadOutsideComments() {
        let text = """
            <configuration><system.applicationHost><sites>
              <!-- <site name="Old"><bindings><binding protocol="http" bindingInformation="*:81:" /></bindings></site> -->
              <site name="Default Web Site" id="1">
                <bindings>
                  <binding protocol="http" bindingInformation="*:80:osfe1.corp.example" />
                  <binding bindingInformation='[::1]:8443:' protocol='https' />
                </bindings>
              </site>
              <site name="Intranet" id="2"><bindings><binding protocol="http" bindingInformation="10.0.0.7:8080:" /></bindings></site>
            </sites></system.applicationHost></configuration>
            """
        let bindings = IISBindingReading.parse(text)
        XCTAssertEqual(
            bindings,
            [
                IISBinding(site: "Default Web Site", protocol: "http", bindingInformation: "*:80:osfe1.corp.example"),
                IISBinding(site: "Default Web Site", protocol: "https", bindingInformation: "[::1]:8443:"),
                IISBinding(site: "Intranet", protocol: "http", bindingInformation: "10.0.0.7:8080:"),
            ])
        XCTAssertEqual(bindings.map(\.port), [80, 8443, 8080])
        XCTAssertEqual(bindings.map(\.hostName), ["osfe1.corp.example", nil, nil])
    }
}
