import FarmController
import FarmProtocol
import FarmSSH
import Foundation
import XCTest

/// Hooks around a server's steps, run for real on this machine by the engine.
final class HookTests: XCTestCase {
    private var folder = ""

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "osfarm-hooks-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: folder) }

    /// A hook that appends what it was told to `calls` and exits with `status`.
    private func hook(status: Int32 = 0, sleep: Int = 0) throws -> String {
        let path = folder + "/hook-\(status)-\(sleep)"
        let script = """
            #!/bin/sh
            echo "$OSFARM_HOOK $OSFARM_SERVER $OSFARM_HOST $OSFARM_RUN_ID $OSFARM_STEP $*" >> \(folder)/calls
            sleep \(sleep)
            echo "said something"
            exit \(status)
            """
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        return path
    }

    private var calls: [String] {
        ((try? String(contentsOfFile: folder + "/calls", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    func testHooksRunAroundTheServerWithItsFactsAndAreUndoneByARollback() async throws {
        var farm = ScriptedFarm(frontEnds: 2)
        let script = try hook()
        farm.servers[1].hooks = ServerHooks(commands: [.beforeStop: [script, "disable"], .afterVerify: [script, "enable"]], timeout: 10)
        let journal = farm.newJournal()
        let outcome = try await farm.engine(journal).run()
        XCTAssertEqual(outcome, .completed)
        XCTAssertEqual(
            calls, ["before-stop fe1 10.0.0.11 run-1 hook:before-stop disable", "after-verify fe1 10.0.0.11 run-1 hook:after-verify enable"])
        let finished = try journal.entries().filter { $0.event == .finished }
        let entries = finished.filter { $0.server == "fe1" }.map(\.step)
        XCTAssertEqual(entries.first, "hook:before-stop", "drained before anything stops")
        XCTAssertEqual(entries.last, "hook:after-verify-after-settings", "back only at the end")
        // The default (hooks.rejoin: after-settings): back only once /ApplySettingsFactory ran on the controller.
        let applied = try XCTUnwrap(finished.firstIndex { $0.server == "dc1" && $0.step == "apply-settings" })
        let back = try XCTUnwrap(finished.firstIndex { $0.server == "fe1" && $0.step == "hook:after-verify-after-settings" })
        XCTAssertLessThan(applied, back)
        XCTAssertFalse(try journal.entries().contains { $0.server == "fe2" && $0.step.hasPrefix("hook:") }, "fe2 has no hooks")

        let inventory = Inventory(path: "/farm.yaml", knownHostsPath: "/known_hosts", servers: farm.servers)
        let plan = MovePlan.make(inventory: inventory, selected: farm.servers, targets: farm.record.targets, options: farm.options).text()
        XCTAssertTrue(plan.contains("before-stop hook on the jump host: \(script) disable"), plan)
        XCTAssertTrue(plan.contains("back behind the load balancer, once settings are applied (fe1"), plan)
        XCTAssertTrue(plan.contains("(hooks.rejoin: after-settings, the default)"), plan)

        let (rolledBack, plans) = try await farm.engine(journal).rollback(of: farm.servers)
        XCTAssertEqual(rolledBack, .completed)
        XCTAssertEqual(plans["fe1"]?.first, .beforeStopHook, "drained before the rollback stops it")
        XCTAssertEqual(plans["fe1"]?.last, .rejoinHook, "back in rotation last")
        XCTAssertEqual(calls.count, 4)
    }

    /// `hooks.rejoin: after-verify`: the other choice, each front-end back as soon as it is verified.
    func testRejoinAfterVerifyPutsEachServerBackOnceVerified() async throws {
        var farm = ScriptedFarm(frontEnds: 2)
        let script = try hook()
        farm.servers[1].hooks = ServerHooks(
            commands: [.beforeStop: [script, "disable"], .afterVerify: [script, "enable"]], timeout: 10, rejoin: .afterVerify)
        let journal = farm.newJournal()
        let outcome = try await farm.engine(journal).run()
        XCTAssertEqual(outcome, .completed)
        let finished = try journal.entries().filter { $0.event == .finished }
        let fe1 = finished.filter { $0.server == "fe1" }.map(\.step)
        XCTAssertEqual(Array(fe1.suffix(2)), ["platform-proof", "hook:after-verify"], "right after its own proof")
        let back = try XCTUnwrap(finished.firstIndex { $0.server == "fe1" && $0.step == "hook:after-verify" })
        let applied = try XCTUnwrap(finished.firstIndex { $0.server == "dc1" && $0.step == "apply-settings" })
        XCTAssertLessThan(back, applied)
        XCTAssertFalse(finished.contains { $0.step == "hook:after-verify-after-settings" })
        let inventory = Inventory(path: "/farm.yaml", knownHostsPath: "/known_hosts", servers: farm.servers)
        let plan = MovePlan.make(inventory: inventory, selected: farm.servers, targets: farm.record.targets, options: farm.options).text()
        XCTAssertTrue(plan.contains("enable, as soon as this server is verified (hooks.rejoin: after-verify)"), plan)
        let (_, plans) = try await farm.engine(journal).rollback(of: farm.servers)
        XCTAssertEqual(plans["fe1"]?.last, .afterVerifyHook, "back in rotation last")
    }

    func testAFailingBeforeStopHookStopsTheRunForThatServerAndOnFailureRuns() async throws {
        var farm = ScriptedFarm(frontEnds: 2)
        let failing = try hook(status: 3), notify = try hook()
        farm.servers[1].hooks = ServerHooks(commands: [.beforeStop: [failing, "disable"], .onFailure: [notify, "page"]], timeout: 10)
        let journal = farm.newJournal()
        let outcome = try await farm.engine(journal).run()
        guard case let .failed(message) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertTrue(message.contains("fe1: hook:before-stop failed: hook \(failing) exited 3: said something"), message)
        XCTAssertTrue(farm.agents["fe1"]!.servicesRunning, "fe1 was not stopped")
        XCTAssertEqual(calls.last, "on-failure fe1 10.0.0.11 run-1 hook:before-stop page")
        XCTAssertTrue(try journal.entries().contains { $0.server == "fe1" && $0.step == "hook:on-failure" && $0.event == .note })
    }

    /// Issue 21: a hook inherited the --admin-password-env variable, and what it echoed reached the
    /// journal, the screen and the change record unmasked.
    func testHooksSeeNoSecretVariableUnlessPassedByNameAndWhatTheyPrintIsMasked() async throws {
        let variable = "OSFARM_TEST_HOOK_ADMIN_PASSWORD"
        setenv(variable, "Pa55-From-Env", 1)
        setenv(ConnectionSettings.defaultPassphraseVariable, "Key-Phrase-9", 1)
        defer {
            unsetenv(variable)
            unsetenv(ConnectionSettings.defaultPassphraseVariable)
        }
        let path = folder + "/echo-secrets"
        try """
        #!/bin/sh
        echo "typed Pa55-Typed-Secret and Pa55-From-Env"
        echo "sees [${\(variable)}] [${\(ConnectionSettings.defaultPassphraseVariable)}] [$OSFARM_SERVER]"
        exit $1
        """.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)

        var farm = ScriptedFarm(frontEnds: 2)
        farm.options.adminPasswordVariable = variable
        farm.servers[1].hooks = ServerHooks(commands: [.beforeStop: [path, "0"]], timeout: 10)
        farm.servers[2].hooks = ServerHooks(commands: [.beforeStop: [path, "3"]], timeout: 10, passEnvironment: [variable])
        let journal = farm.newJournal()
        let engine = try RunEngine(
            record: farm.record, journal: journal, servers: farm.servers, agents: farm.agents, observer: SilentObserver(),
            interrupt: OperatorInterrupt(), clock: farm.clock, adminPassword: Secret("Pa55-Typed-Secret"), confirmRestore: nil)
        let outcome = try await engine.run()
        guard case let .failed(message) = outcome else { return XCTFail("\(outcome)") }
        let entries = try journal.entries()
        let fe1 = entries.first { $0.server == "fe1" && $0.step == "hook:before-stop" && $0.event == .finished }?.message ?? ""
        XCTAssertTrue(fe1.hasSuffix("(sees [] [] [fe1])"), "fe1's hook saw neither secret variable: \(fe1)")
        XCTAssertTrue(
            message.contains("hook \(path) exited 3: typed <redacted> and <redacted> | sees [<redacted>] [] [fe2]"),
            "fe2's inventory passes the variable by name; it is still masked in what it prints: \(message)")
        let written = String(decoding: try JSONEncoder().encode(entries), as: UTF8.self) + message
        for secret in ["Pa55-From-Env", "Pa55-Typed-Secret", "Key-Phrase-9"] {
            XCTAssertFalse(written.contains(secret), secret)
        }
    }

    func testAHookThatDoesNotEndIsEndedAtItsDeadline() async throws {
        var farm = ScriptedFarm(frontEnds: 1)
        farm.servers[1].hooks = ServerHooks(commands: [.beforeStop: [try hook(sleep: 30)]], timeout: 1)
        let started = Date()
        let outcome = try await farm.engine(farm.newJournal()).run()
        guard case let .failed(message) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertTrue(message.contains("did not finish within 1 s and was ended"), message)
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
    }

    func testTheInventoryDeclaresHooksInDefaultsAndPerServer() throws {
        let path = folder + "/farm.yaml"
        try """
        defaults:
          hooks:
            before-stop: [./drain, disable]
            on-failure: [/usr/local/bin/page]
            timeout: 20
            pass-env: [LB_TOKEN]
        servers:
          - name: dc1
            host: 10.0.0.10
            role: deployment-controller
          - name: fe1
            host: 10.0.0.11
            role: front-end
            hooks:
              before-stop: [/opt/lb/drain, fe1]
              rejoin: after-verify
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let inventory = try InventoryLoader.load(path: path)
        XCTAssertEqual(inventory.servers[0].hooks.rejoinPoint, .afterSettings, "the default")
        XCTAssertEqual(inventory.servers[1].hooks.rejoinPoint, .afterVerify)
        XCTAssertEqual(inventory.servers[0].hooks.command(.beforeStop), [folder + "/drain", "disable"])
        XCTAssertEqual(inventory.servers[1].hooks.command(.beforeStop), ["/opt/lb/drain", "fe1"])
        XCTAssertEqual(inventory.servers[1].hooks.command(.onFailure), ["/usr/local/bin/page"])
        XCTAssertEqual(inventory.servers[1].hooks.timeout, 20)
        XCTAssertEqual(inventory.servers[1].hooks.passEnvironment, ["LB_TOKEN"])
        try "servers:\n  - name: dc1\n    host: h\n    role: deployment-controller\n    hooks:\n      before-stp: [x]\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try InventoryLoader.load(path: path)) { error in
            XCTAssertTrue("\(error)".contains("servers[0].hooks.before-stp: unknown field"), "\(error)")
        }
        try "servers:\n  - name: dc1\n    host: h\n    role: deployment-controller\n    hooks:\n      rejoin: later\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try InventoryLoader.load(path: path)) { error in
            XCTAssertTrue("\(error)".contains("servers[0].hooks.rejoin: must be after-settings"), "\(error)")
        }
    }
}
