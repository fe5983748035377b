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

    /// `service-center`: the scheme, and the host name and port an IIS binding needs; a bad value
    /// is refused with its file, line and field.
    func testServiceCenterAccessIsReadWithItsScheme() throws {
        let inventory = try load(
            """
            defaults:
              service-center: {port: 8080}
            servers:
              - {name: dc1, host: 10.0.0.10, role: deployment-controller, service-center: {scheme: http, host: osfarm.example.com, port: 8081}}
              - {name: fe1, host: 10.0.0.11, role: front-end}
              - {name: fe2, host: 10.0.0.12, role: front-end, service-center: {scheme: https}}
              - {name: fe3, host: 10.0.0.13, role: front-end, service-center: {scheme: https, host: osfe3.example.com, port: 8443}}
            """)
        XCTAssertEqual(inventory.servers[0].serviceCenter, ServiceCenterAccess(host: "osfarm.example.com", port: 8081))
        XCTAssertEqual(inventory.servers[1].serviceCenter, ServiceCenterAccess(port: 8080))
        XCTAssertEqual(inventory.servers[2].serviceCenter, ServiceCenterAccess(scheme: .https))
        XCTAssertEqual(inventory.servers[3].serviceCenter, ServiceCenterAccess(scheme: .https, host: "osfe3.example.com", port: 8443))
        for bad in ["ftp", "HTTPS", "[https]"] {
            let refused = error("servers:\n  - name: dc1\n    host: h\n    role: deployment-controller\n    service-center:\n      scheme: \(bad)\n")
            XCTAssertEqual(refused?.field, "servers[0].service-center.scheme", bad)
            XCTAssertEqual(refused?.line, 6, bad)
            XCTAssertEqual(refused?.problem, bad == "[https]" ? "must be a single value" : "must be http or https", bad)
        }
        let bad = error("servers:\n  - {name: dc1, host: h, role: deployment-controller, service-center: {host: \"a b\"}}\n")
        XCTAssertTrue("\(bad.map { "\($0)" } ?? "")".contains("service-center.host: must be a host name"), "\(String(describing: bad))")
    }

    func testAReplicaNamesItsSnapshotAndRefusesAnyAddressOffLoopback() throws {
        let replica = """
            replica:
              snapshot: /rehearsals/farm.json
            defaults: {user: osfarm}
            servers:
              - {name: dc1, host: 127.40.0.10, role: deployment-controller}
              - {name: fe1, host: '::1', role: front-end}
              - {name: fe2, host: HOST, role: front-end}

            """
        let inventory = try load(replica.replacingOccurrences(of: "HOST", with: "127.255.0.3"))
        XCTAssertEqual(inventory.replicaOf, "/rehearsals/farm.json")
        XCTAssertNil(
            try load(
                replica.replacingOccurrences(of: "replica:\n  snapshot: /rehearsals/farm.json\n", with: "").replacingOccurrences(of: "HOST", with: "10.0.0.5")
            ).replicaOf)
        for host in ["10.0.0.5", "osfe2.corp.example", "localhost", "128.0.0.1", "::2"] {
            let refused = error(replica.replacingOccurrences(of: "HOST", with: "'\(host)'"))
            XCTAssertEqual(refused?.field, "servers[2].host", host)
            XCTAssertEqual(refused?.line, 7, host)
            XCTAssertTrue(
                refused?.description.contains("\(host) is not a loopback address, and this inventory is a replica") == true, "\(String(describing: refused))")
        }
        XCTAssertEqual(error("replica: {}\nservers:\n  - {name: dc1, host: 127.0.0.1, role: deployment-controller}\n")?.field, "replica.snapshot")
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
        XCTAssertLessThan(Date().timeIntervalSince(started), 0.5)
        // l0…l4 add 9·(10 + 91 + 820 + 7381) = 74 718 nodes; the first *l4 on line 7 adds 66 429 more.
        XCTAssertEqual(refused?.line, 7, "the alias that passes the bound")
        XCTAssertEqual(
            refused?.description.hasPrefix(
                "/farm/inventory.yaml:7: the YAML alias *l4 takes what the inventory's aliases repeat past 100000 nodes (an alias bomb?)"), true,
            refused?.description ?? "accepted")

        // Below the bound, the same anchors are only an unknown field.
        XCTAssertEqual(error(bomb(depth: 3) + "servers:\n  - ? *l3\n    : front-end\n")?.field, "anchors")
        XCTAssertEqual(
            error("defaults: {user: a}\nservers: [{name: dc1, host: a, role: front-end, user: *u}]\n")?.problem,
            "uses the YAML alias *u, which no anchor (&u) before it defines")
        XCTAssertEqual(error("servers:\n- &s {name: dc1, host: a, role: front-end}\n- *s\n")?.problem, "\"dc1\" is already used on line 2")
    }

    /// Ansible users reuse a tag list or a hook with an anchor; an ordinary alias is the value it names.
    func testOrdinaryAliasesAreTheValuesTheyName() throws {
        let inventory = try load(
            """
            defaults:
              user: &admin svc-osfarm
              hooks:
                before-stop: &drain [/opt/lb/drain, --wait]
            servers:
              - name: dc1
                host: a
                role: deployment-controller
                tags: &prod [prod, eu-west]
              - name: fe1
                host: b
                role: front-end
                user: *admin
                tags: *prod
                hooks: {after-verify: *drain}
              - {name: fe2, host: c, role: front-end, tags: *prod}
            """)
        XCTAssertEqual(inventory.servers.map(\.tags), [["prod", "eu-west"], ["prod", "eu-west"], ["prod", "eu-west"]])
        XCTAssertEqual(inventory.servers[1].user, "svc-osfarm")
        XCTAssertEqual(inventory.servers[1].hooks.commands["after-verify"], ["/opt/lb/drain", "--wait"])
        XCTAssertEqual(inventory.servers[1].hooks.commands["before-stop"], ["/opt/lb/drain", "--wait"])
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
