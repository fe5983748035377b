@testable import FarmAgent
import FarmProtocol
import Foundation
import XCTest

/// The login check's reading of what SqlClient said, in-process: each finding and its DBA fix.
final class LoginClassifierTests: XCTestCase {
    private let attempt = LoginChecker.Attempt(
        id: "platform-runtime", section: .platform, role: .runtime, user: "OSRUNTIME", server: "sql-new", catalog: "outsystems", integrated: false)

    private func record(_ json: String) throws -> LoginClassifier.Record { try JSONDecoder().decode(LoginClassifier.Record.self, from: Data(json.utf8)) }
    private func refinement(_ json: String) throws -> LoginClassifier.Refinement {
        try JSONDecoder().decode(LoginClassifier.Refinement.self, from: Data(json.utf8))
    }

    func testTheScriptTheAgentRunsIsTheOneInDeploy() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("deploy/windows/Test-OsfarmLogins.ps1")
        let text = try String(contentsOf: file, encoding: .utf8)
        XCTAssertEqual(LoginCheckScript.text, String(text.dropLast(text.hasSuffix("\n") ? 1 : 0)))
        XCTAssertTrue(LoginCheckScript.text.hasPrefix("# osfarm-login-check 1"))
    }

    func testALoginThatWorksWithItsRolesIsOkAndOneWithoutThemIsAPermissionFinding() throws {
        let ok = LoginClassifier.finding(
            attempt,
            try record(
                #"{"id":"platform-runtime","ok":true,"login":"OSRUNTIME","roles":["db_datareader","db_datawriter"],"defaultDatabase":"outsystems","defaultDatabaseExists":true}"#
            ),
            refined: nil)
        XCTAssertEqual(ok.kind, .ok)
        let owner = LoginClassifier.finding(
            attempt, try record(#"{"id":"platform-runtime","ok":true,"login":"OSRUNTIME","roles":["db_owner"],"defaultDatabaseExists":true}"#), refined: nil)
        XCTAssertEqual(owner.kind, .ok, "db_owner may do everything")
        let bare = LoginClassifier.finding(
            attempt, try record(#"{"id":"platform-runtime","ok":true,"login":"OSRUNTIME","roles":[],"defaultDatabaseExists":true}"#), refined: nil)
        XCTAssertEqual(bare.kind, .permission)
        XCTAssertEqual(bare.errorNumber, 229)
        XCTAssertEqual(bare.fix, "USE [outsystems]; ALTER ROLE [db_datareader] ADD MEMBER [OSRUNTIME]; ALTER ROLE [db_datawriter] ADD MEMBER [OSRUNTIME];")
        let noDefault = LoginClassifier.finding(
            attempt,
            try record(#"{"id":"platform-runtime","ok":true,"login":"OSRUNTIME","roles":["db_owner"],"defaultDatabase":"gone","defaultDatabaseExists":false}"#),
            refined: nil)
        XCTAssertEqual(noDefault.kind, .defaultDatabase)
        XCTAssertFalse(noDefault.kind.blocksMove)
        XCTAssertEqual(noDefault.fix, "ALTER LOGIN [OSRUNTIME] WITH DEFAULT_DATABASE = [outsystems];")
    }

    func testLoginFailedIsTellsItsCauseOnlyWhenAnotherLoginCouldSee() throws {
        let failed = try record(#"{"id":"platform-runtime","ok":false,"number":18456,"message":"Login failed for user 'OSRUNTIME'."}"#)
        XCTAssertEqual(LoginClassifier.finding(attempt, failed, refined: nil).kind, .loginFailed)
        let blind = try refinement(#"{"id":"platform-runtime","refined":true,"canSeeLogins":false,"loginExists":false}"#)
        XCTAssertEqual(LoginClassifier.finding(attempt, failed, refined: blind).kind, .loginFailed, "without VIEW ANY DEFINITION an absent row proves nothing")
        let missing = try refinement(
            #"{"id":"platform-runtime","refined":true,"canSeeLogins":true,"loginExists":false,"loginDisabled":false,"userExists":true}"#)
        XCTAssertEqual(LoginClassifier.finding(attempt, failed, refined: missing).kind, .loginMissing)
        let disabled = try refinement(
            #"{"id":"platform-runtime","refined":true,"canSeeLogins":true,"loginExists":true,"loginDisabled":true,"userExists":true}"#)
        let finding = LoginClassifier.finding(attempt, failed, refined: disabled)
        XCTAssertEqual(finding.kind, .disabled)
        XCTAssertEqual(finding.fix, "ALTER LOGIN [OSRUNTIME] ENABLE;")
        let password = try refinement(
            #"{"id":"platform-runtime","refined":true,"canSeeLogins":true,"loginExists":true,"loginDisabled":false,"userExists":true}"#)
        XCTAssertEqual(LoginClassifier.finding(attempt, failed, refined: password).kind, .wrongPassword)
    }

    func testCannotOpenDatabaseIsAnOrphanedUserAndAnonymousLogonIsTheDoubleHop() throws {
        let orphan = LoginClassifier.finding(
            attempt,
            try record(
                #"{"id":"platform-runtime","ok":false,"number":4060,"message":"Cannot open database \"outsystems\" requested by the login. The login failed."}"#
            ),
            refined: nil)
        XCTAssertEqual(orphan.kind, .orphanedUser)
        XCTAssertEqual(orphan.fix, "USE [outsystems]; ALTER USER [OSRUNTIME] WITH LOGIN = [OSRUNTIME];")
        var integrated = attempt
        integrated.integrated = true
        let anonymous = LoginClassifier.finding(
            integrated, try record(#"{"id":"platform-runtime","ok":false,"number":18456,"message":"Login failed for user 'NT AUTHORITY\\ANONYMOUS LOGON'."}"#),
            refined: nil)
        XCTAssertEqual(anonymous.kind, .noNetworkCredentials)
        XCTAssertNil(anonymous.fix)
        let unreachable = LoginClassifier.finding(
            attempt, try record(#"{"id":"platform-runtime","ok":false,"number":10061,"message":"A network-related error"}"#), refined: nil)
        XCTAssertEqual(unreachable.kind, .unreachable)
    }

    func testANameWithABracketIsQuotedInTheFix() {
        XCTAssertEqual(LoginClassifier.quoted("a]b"), "[a]]b]")
    }
}
