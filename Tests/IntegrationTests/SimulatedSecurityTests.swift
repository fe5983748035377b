@testable import FarmSimulator
import Foundation
import XCTest

/// The simulated SQL Server's logins in-process: what each fault makes it answer, and that the
/// DBA's fix clears it (no farm, milliseconds).
final class SimulatedSecurityTests: XCTestCase {
    private func answer(_ security: SimulatedSecurity, _ user: String, catalog: String = "outsystems") -> SimulatedSecurity.Answer {
        security.answer(user: user, password: SimulatedSecurity.password(of: user), catalog: catalog)
    }

    private func failure(_ answer: SimulatedSecurity.Answer) -> (number: Int, state: Int, message: String)? {
        guard case let .failed(number, state, message) = answer else { return nil }
        return (number, state, message)
    }

    func testAGoodRestoreLetsEveryPlatformUserIn() {
        let security = SimulatedSecurity.restored(windowsAuthentication: false)
        for user in SimulatedSecurity.platformUsers {
            XCTAssertNil(failure(answer(security, user.name, catalog: user.catalog)), user.name)
        }
        XCTAssertEqual(failure(security.answer(user: "OSRUNTIME", password: "guess", catalog: "outsystems"))?.state, 8)
    }

    func testEachFaultAnswersAsSQLServerDoesAndTheFixClearsIt() throws {
        let expected: [LoginFault: (number: Int, state: Int)] = [
            .missing: (18456, 5), .password: (18456, 8), .disabled: (18456, 7), .orphaned: (4060, 1),
        ]
        for (fault, want) in expected {
            var security = SimulatedSecurity.restored(windowsAuthentication: false)
            try fault.apply(to: &security, user: "OSRUNTIME")
            let got = failure(answer(security, "OSRUNTIME"))
            XCTAssertEqual(got?.number, want.number, "\(fault)")
            XCTAssertEqual(got?.state, want.state, "\(fault)")
            XCTAssertEqual(
                got?.message,
                want.number == 18456 ? "Login failed for user 'OSRUNTIME'." : "Cannot open database \"outsystems\" requested by the login. The login failed.")
            XCTAssertNil(failure(answer(security, "OSADMIN")), "\(fault) touched only OSRUNTIME")
            LoginFault.fix(&security, user: "OSRUNTIME", windowsAuthentication: false)
            XCTAssertNil(failure(answer(security, "OSRUNTIME")), "\(fault) fixed")
        }
        var security = SimulatedSecurity.restored(windowsAuthentication: false)
        try LoginFault.permission.apply(to: &security, user: "OSRUNTIME")
        guard case let .loggedIn(_, user, _) = answer(security, "OSRUNTIME") else { return XCTFail("logs in") }
        XCTAssertFalse(SimulatedSecurity.has(user, role: "db_datareader"))
        try LoginFault.defaultDatabase.apply(to: &security, user: "OSADMIN")
        XCTAssertFalse(security.defaultDatabaseExists(try XCTUnwrap(security.login(named: "OSADMIN"))))
        XCTAssertThrowsError(try LoginFault.missing.apply(to: &security, user: "NOBODY"))
    }

    func testWindowsLoginsAndTheAnonymousLogon() throws {
        var security = SimulatedSecurity.restored(windowsAuthentication: true)
        XCTAssertNil(failure(security.answer(user: "OSADMIN", password: nil, catalog: "osSession")), "the admin account has a user in every catalog")
        XCTAssertEqual(
            failure(security.answer(user: nil, password: nil, catalog: "outsystems"))?.message, "Login failed for user 'NT AUTHORITY\\ANONYMOUS LOGON'.")
        XCTAssertEqual(failure(security.answer(user: "OSADMIN", password: "x", catalog: "outsystems"))?.number, 18456, "no SQL login of that name")
        try LoginFault.windowsMissing.apply(to: &security, user: "OSADMIN")
        XCTAssertEqual(failure(security.answer(user: "OSADMIN", password: nil, catalog: "outsystems"))?.state, 5)
    }
}
