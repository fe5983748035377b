import FarmController
import FarmProtocol
@testable import FarmSimulator
import Foundation
import XCTest

/// Issue 18: the logins a restore on another server breaks, on one simulated farm (a deployment
/// controller, the instant profile), judged by the simulator's ground truth.
final class LoginCheckTests: XCTestCase {
    private func decode(_ json: String) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], json)
    }

    private func loginFault(_ farm: TestFarm, _ fault: LoginFault?, fix: String? = nil, user: String, on database: String) throws {
        var request = FaultRequest()
        if let fault { request.loginFaults = [LoginFaultOnUser(fault: fault, user: user)] }
        if let fix { request.loginFixes = [fix] }
        request.loginDatabase = database
        try farm.inject(request, on: "dc1")
    }

    private func move(_ farm: TestFarm, _ mode: String, to target: String, _ extra: [String] = []) throws -> CommandResult {
        try osfarm(
            ["move-db", mode, "-i", farm.record.inventory, "--to", target, "--state-dir", farm.stateDirectory] + (mode == "run" ? ["--yes"] : [])
                + extra)
    }

    /// What today's osfarm did: the gate only proved the port answers, the run repointed
    /// server.hsconf, and the platform failed after it (the Deployment Controller cannot log in).
    func testWithoutTheCheckARefusedLoginShowsOnlyAfterTheRepoint() throws {
        let farm = try TestFarm(frontEnds: 0)
        defer { farm.shutdown() }
        try loginFault(farm, .missing, user: "OSRUNTIME", on: "new")
        let result = try farm.moveDB("run", ["--db-restored", "--no-login-check", "--no-apply-settings", "--readiness-timeout", "4"])
        XCTAssertEqual(result.status, 1, result.stdout + result.stderr)
        let dc = try XCTUnwrap(try farm.status().servers.first)
        XCTAssertEqual(dc.database, farm.newDatabase, "the failure came after the repoint")
        XCTAssertFalse(dc.services.first { $0.name == "OutSystems Deployment Controller Service" }?.initialised ?? true)
        let journal = try farm.journal(try farm.lastRunID())
        XCTAssertTrue(journal.contains { $0.step == "wait-ready" && $0.event == .failed }, "\(journal.map { "\($0.step) \($0.event)" })")
    }

    /// The failure matrix, in two batches of three cells on one farm (the faults of a batch together,
    /// each on another user, the platform's admin logins left working to tell the causes apart).
    /// Each cell: preflight (restore done) refuses with its finding and stops nothing; the run stops
    /// at the gate naming it, with every server.hsconf unchanged byte for byte; after its DBA fix the
    /// gate no longer names it, and once the batch is fixed, resume finishes the move. The second
    /// batch moves the farm back, the faults on the old server.
    func testEveryRefusedLoginIsFoundAtPreflightStoppedAtTheGateAndResumedAfterTheFix() throws {
        let farm = try TestFarm(frontEnds: 0)
        defer { farm.shutdown() }
        typealias Cell = (fault: LoginFault, user: String, kind: LoginFindingKind, number: Int)
        let batches: [(label: String, target: String, cells: [Cell])] = [
            (
                "new", farm.newDatabase,
                [
                    (.missing, "OSRUNTIME", .loginMissing, 18456), (.password, "OSRUNTIME_LOG", .wrongPassword, 18456),
                    (.password, "OSSTATE", .loginFailed, 18456),
                ]
            ),
            (
                "old", farm.oldDatabase,
                [(.disabled, "OSRUNTIME", .disabled, 18456), (.orphaned, "OSRUNTIME_LOG", .orphanedUser, 4060), (.permission, "OSSTATE", .permission, 229)]
            ),
        ]
        func names(_ text: String, _ cell: Cell) -> Bool { text.contains(" \(cell.user) on ") && text.contains(": \(cell.kind.rawValue) (") }
        for batch in batches {
            for cell in batch.cells { try loginFault(farm, cell.fault, user: cell.user, on: batch.label) }
            let before = try farm.configurationFiles()

            let preflight = try move(farm, "preflight", to: batch.target, ["--db-restored", "--json"])
            XCTAssertEqual(preflight.status, 1, preflight.stdout)
            let findings = (try decode(preflight.stdout)["servers"] as? [[String: Any]])?.first?["findings"] as? [[String: Any]] ?? []
            let refused = findings.filter { $0["code"] as? String == "login-refused" }.compactMap { $0["message"] as? String }
            XCTAssertEqual(refused.count, batch.cells.count, "\(findings)")
            for cell in batch.cells {
                XCTAssertTrue(
                    refused.contains { $0.contains(" \(cell.user) on ") && $0.contains(": \(cell.kind.rawValue) (SQL Server error \(cell.number))") },
                    "\(cell): \(refused)")
            }
            XCTAssertTrue(try farm.status().servers.allSatisfy { $0.allRunning }, "preflight stopped something")

            // The window: every server stops, the DBA restores, the gate checks the logins.
            let run = try move(farm, "run", to: batch.target, ["--no-apply-settings"])
            XCTAssertEqual(run.status, 3, "stops at the restore gate: \(run.stdout)")
            let runID = try farm.lastRunID()
            var gate = try osfarm(["resume", runID, "--state-dir", farm.stateDirectory, "--db-restored"])
            for (index, cell) in batch.cells.enumerated() {
                let said = Self.withoutHistory(gate.stdout + gate.stderr)
                XCTAssertEqual(gate.status, 1, "\(cell): \(said)")
                XCTAssertTrue(said.contains("check-logins") && said.contains("still on the old database"), "\(cell): \(said)")
                XCTAssertTrue(said.contains("osfarm resume \(runID) --db-restored") && said.contains("osfarm rollback \(runID)"), said)
                XCTAssertTrue(batch.cells[index...].allSatisfy { names(said, $0) }, "\(cell): \(said)")
                XCTAssertFalse(batch.cells[..<index].contains { names(said, $0) }, "a fixed login is still refused: \(said)")
                XCTAssertEqual(try farm.configurationFiles(), before, "\(cell): a server.hsconf changed")
                try loginFault(farm, nil, fix: cell.user, user: cell.user, on: batch.label)
                gate = try osfarm(["resume", runID, "--state-dir", farm.stateDirectory, "--db-restored"])
            }
            XCTAssertEqual(gate.status, 0, "\(gate.stdout) \(gate.stderr)")
            for server in try farm.status().servers {
                XCTAssertEqual(server.database, batch.target, server.name)
                XCTAssertTrue(server.allRunning, server.name)
            }
        }
        // A default database the server lacks does not stop the platform (it names its catalog): a note.
        let target = farm.newDatabase
        try loginFault(farm, .defaultDatabase, user: "OSRUNTIME", on: "new")
        let preflight = try move(farm, "preflight", to: target, ["--db-restored"])
        XCTAssertEqual(preflight.status, 0, preflight.stdout)
        XCTAssertTrue(preflight.stdout.contains("OSRUNTIME on \(target)\\outsystems: default-database (SQL Server error 4064)"), preflight.stdout)

        // No password in anything osfarm or the agent wrote, nor in how the agent started PowerShell.
        var everything = try farm.everythingRecorded() + preflight.stdout
        for server in farm.record.servers {
            everything += try String(contentsOfFile: server.directory + "/" + PowerShellEmulator.argvLog, encoding: .utf8)
            for file in (FileManager.default.subpaths(atPath: try farm.file(#"C:\ProgramData\osfarm"#, on: server.name)) ?? []) {
                everything += (try? String(contentsOfFile: try farm.file(#"C:\ProgramData\osfarm\"# + file, on: server.name), encoding: .utf8)) ?? ""
            }
        }
        XCTAssertTrue(everything.contains("-EncodedCommand"), "the agent started the login check")
        for user in SimulatedSecurity.platformUsers {
            XCTAssertFalse(everything.contains(user.password), "\(user.name)'s password leaked")
        }
    }

    /// `osfarm check --database NEW`, standalone, names each finding and its fix.
    func testCheckDatabaseNamesTheFindingAndTheFix() throws {
        let farm = try TestFarm(frontEnds: 0)
        defer { farm.shutdown() }
        try loginFault(farm, .orphaned, user: "OSRUNTIME", on: "new")
        let result = try osfarm(["check", "-i", farm.record.inventory, "--database", farm.newDatabase])
        XCTAssertEqual(result.status, 1, result.stdout + result.stderr)
        XCTAssertTrue(result.stdout.contains("OSRUNTIME on \(farm.newDatabase)\\outsystems: orphaned-user (SQL Server error 4060)"), result.stdout)
        XCTAssertTrue(result.stdout.contains("ALTER USER [OSRUNTIME] WITH LOGIN = [OSRUNTIME];"), result.stdout)
        XCTAssertTrue(result.stdout.contains("OSADMIN on \(farm.newDatabase)\\outsystems: ok"), result.stdout)
    }

    /// Integrated authentication: a key-authenticated session has no network credentials, so the
    /// check (as the Configuration Tool would) reaches SQL Server as ANONYMOUS LOGON; with
    /// credentials, a missing Windows login of the platform's account is found.
    func testIntegratedAuthenticationWithoutNetworkCredentialsIsRefusedAtPreflight() throws {
        let farm = try TestFarm(frontEnds: 0, windowsAuthentication: true)
        defer { farm.shutdown() }
        var keyOnly = FaultRequest()
        keyOnly.sessionNetworkCredentials = false
        try farm.inject(keyOnly, on: "dc1")
        let refused = try farm.moveDB("preflight", ["--db-restored"])
        XCTAssertEqual(refused.status, 1, refused.stdout)
        XCTAssertTrue(refused.stdout.contains("no-network-credentials (SQL Server error 18456)"), refused.stdout)
        XCTAssertTrue(refused.stdout.contains("NT AUTHORITY\\ANONYMOUS LOGON"), refused.stdout)
        XCTAssertTrue(
            refused.stdout.contains("constrained delegation") && refused.stdout.contains("--no-login-check"), "names the alternative: \(refused.stdout)")

        var credentials = FaultRequest()
        credentials.sessionNetworkCredentials = true
        try farm.inject(credentials, on: "dc1")
        XCTAssertEqual(try farm.moveDB("preflight", ["--db-restored"]).status, 0)
        try loginFault(farm, .windowsMissing, user: "OSADMIN", on: "new")
        let missing = try farm.moveDB("preflight", ["--db-restored"])
        XCTAssertEqual(missing.status, 1, missing.stdout)
        XCTAssertTrue(missing.stdout.contains("login-missing (SQL Server error 18456)") && missing.stdout.contains("FROM WINDOWS"), missing.stdout)
        XCTAssertTrue(try farm.status().servers.allSatisfy { $0.allRunning })
    }

    /// The output without its "History" block: earlier failures of the run, since carried on, are
    /// listed there on purpose; what the run says now is everything else.
    static func withoutHistory(_ text: String) -> String {
        var inHistory = false
        return text.split(separator: "\n", omittingEmptySubsequences: false).filter { line in
            if line.hasPrefix("History (") { inHistory = true }
            if inHistory && line.isEmpty { inHistory = false }
            return !inHistory
        }.joined(separator: "\n")
    }
}
