import FarmController
import FarmProtocol
import Foundation
import XCTest

final class InventoryLoaderTests: XCTestCase {
    private let path = "/farm/inventory.yaml"

    private func load(_ text: String) throws -> Inventory { try InventoryLoader.parse(text, path: path) }

    private func error(_ text: String) -> InventoryError? {
        do {
            _ = try load(text)
            return nil
        } catch {
            return error as? InventoryError
        }
    }

    func testDefaultsApplyAndServersOverride() throws {
        let inventory = try load(
            """
            defaults:
              user: svc-osfarm
              port: 2222
              identity: keys/osfarm_ed25519
              known_hosts: /etc/osfarm/known_hosts
              agent: '"C:\\Program Files\\osfarm\\osfarm-agent.exe" serve'
            servers:
              - name: dc1
                host: 10.0.0.10
                role: deployment-controller
                tags: [prod, eu]
              - name: fe1
                host: fe1.farm.example
                port: 22
                user: Administrator
                identity: ssh-agent
                role: front-end
            """)
        XCTAssertEqual(inventory.knownHostsPath, "/etc/osfarm/known_hosts")
        let dc = inventory.servers[0], fe = inventory.servers[1]
        XCTAssertEqual(dc.user, "svc-osfarm")
        XCTAssertEqual(dc.port, 2222)
        XCTAssertEqual(dc.identity, "/farm/keys/osfarm_ed25519")
        XCTAssertEqual(dc.role, .deploymentController)
        XCTAssertEqual(dc.tags, ["prod", "eu"])
        XCTAssertEqual(dc.agentCommand, "\"C:\\Program Files\\osfarm\\osfarm-agent.exe\" serve")
        XCTAssertEqual(dc.line, 8)
        XCTAssertEqual(fe.port, 22)
        XCTAssertEqual(fe.user, "Administrator")
        XCTAssertNil(fe.identity, "ssh-agent means no key file")
        XCTAssertEqual(fe.address, "fe1.farm.example:22")
    }

    func testErrorsNameFileLineAndField() {
        let unknownRole = error(
            """
            servers:
              - name: dc1
                host: 10.0.0.10
                role: controller
            """)
        XCTAssertEqual(
            unknownRole?.description, "/farm/inventory.yaml:4: servers[0].role: \"controller\" is not a role; use deployment-controller or front-end")

        let typo = error(
            """
            servers:
              - name: dc1
                hots: 10.0.0.10
                role: front-end
            """)
        XCTAssertEqual(typo?.line, 3)
        XCTAssertEqual(typo?.field, "servers[0].hots")
        XCTAssertTrue(typo?.problem.hasPrefix("unknown field") ?? false)

        let badPort = error(
            """
            defaults:
              port: ssh
            servers:
              - {name: dc1, host: a, role: front-end}
            """)
        XCTAssertEqual(badPort?.line, 2)
        XCTAssertEqual(badPort?.field, "defaults.port")

        let duplicate = error(
            """
            servers:
              - {name: dc1, host: a, role: deployment-controller}
              - {name: dc1, host: b, role: front-end}
            """)
        XCTAssertEqual(duplicate?.line, 3)
        XCTAssertEqual(duplicate?.problem, "\"dc1\" is already used on line 2")

        let sameAddress = error(
            """
            servers:
              - {name: fe1, host: a, role: front-end}
              - {name: fe2, host: a, role: front-end}
            """)
        XCTAssertEqual(sameAddress?.problem, "a:22 is also server fe1")

        XCTAssertEqual(error("servers: []")?.field, "servers")
        XCTAssertEqual(error("defaults: {}")?.problem, "missing; list at least one server")
        XCTAssertEqual(error("servers:\n  - name: dc1\n    role: front-end\n")?.field, "servers[0].host")
        let broken = error("servers:\n  - name: [dc1\n")
        XCTAssertNotNil(broken?.line)
        XCTAssertTrue(broken?.problem.hasPrefix("not valid YAML") ?? false, "\(String(describing: broken))")
    }

    func testMissingFileIsAClearError() {
        XCTAssertThrowsError(try InventoryLoader.load(path: "/nonexistent/inv.yaml")) {
            XCTAssertEqual("\($0)", "/nonexistent/inv.yaml: no such file")
        }
    }

    /// Anchors that each repeat the one before `depth` times: the last stands for 9^depth nodes.
    private func bomb(depth: Int) -> String {
        var text = "anchors:\n  l0: &l0 [x, x, x, x, x, x, x, x, x]\n"
        for level in 1...depth {
            text += "  l\(level): &l\(level) [" + Array(repeating: "*l\(level - 1)", count: 9).joined(separator: ", ") + "]\n"
        }
        return text
    }

    func testAnAliasBombInAComplexKeyIsRefusedFastNamingTheLine() {
        // Yams hashes mapping keys whole: this key alone would take 9^12 steps.
        let text = bomb(depth: 12) + "servers:\n  - ? *l12\n    : front-end\n"
        let started = Date()
        let refused = error(text)
        XCTAssertLessThan(Date().timeIntervalSince(started), 1)
        XCTAssertEqual(refused?.line, 3, "the first alias")
        XCTAssertEqual(
            refused?.description.hasPrefix("/farm/inventory.yaml:3: uses the YAML alias *l0; an inventory may not use aliases"), true,
            refused?.description ?? "accepted")

        // The same as a flow mapping's key, and as a plain value.
        XCTAssertEqual(error("servers:\n  - {name: dc1, host: a, role: front-end}\nx: &a [1]\ny: {*a : 1}\n")?.line, 4)
        XCTAssertEqual(error("servers:\n  - name: dc1\n    host: a\n    role: front-end\n    tags: &t [a]\n  - name: fe1\n    tags: *t\n")?.line, 7)
        XCTAssertEqual(error("servers:\n- &s {name: dc1, host: a, role: front-end}\n- *s\n")?.line, 3)
        XCTAssertEqual(error("defaults: {user: &u a}\nservers: [{name: dc1, host: a, role: front-end, user: *u}]\n")?.line, 2)
    }

    func testStarsThatAreNotAliasesAreFine() throws {
        let inventory = try load(
            """
            # *not an alias, a comment
            defaults:
              agent: '*quoted* C:\\osfarm\\osfarm-agent.exe serve'
              user: "*also quoted"
            servers:
              - name: dc1
                host: a    # *comment
                role: deployment-controller
                tags: [web*, "*", 'a*b', x *y]
              - name: fe1
                host: b
                role: front-end
                identity: keys/a*b
            """)
        XCTAssertEqual(inventory.servers[0].tags, ["web*", "*", "a*b", "x *y"])
        XCTAssertEqual(inventory.servers[0].user, "*also quoted")
        XCTAssertEqual(inventory.servers[1].identity, "/farm/keys/a*b")
        XCTAssertEqual(inventory.servers[0].agentCommand, "*quoted* C:\\osfarm\\osfarm-agent.exe serve")
    }

    func testAHugeInventoryIsRefused() {
        let huge = "servers: []\n# " + String(repeating: "x", count: InventoryLoader.maxBytes)
        XCTAssertEqual(error(huge)?.problem, "is \(huge.utf8.count) bytes; an inventory is at most \(InventoryLoader.maxBytes) bytes")
    }
}
