import FarmController
import FarmProtocol
@testable import FarmSimulator
import Foundation
import XCTest

/// A real HAProxy (Debian's) in front of the simulated front-ends' web servers, traffic through it
/// all along a move, and the shipped hook (deploy/jumphost/hooks/haproxy-server) draining each
/// front-end before osfarm stops it and putting it back once settings are applied (the default
/// `hooks.rejoin: after-settings`: OutSystems applies runtime settings to the modules only then).
final class LoadBalancerHookTests: XCTestCase {
    static let hook = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("deploy/jumphost/hooks/haproxy-server").path

    /// Sends a request every 20 ms through HAProxy until stopped; counts the answers.
    private final class Traffic: @unchecked Sendable {
        private let lock = NSLock()
        private var running = true
        private var count = 0
        init(port: Int) {
            Thread.detachNewThread { [self] in
                while lock.withLock({ running }) {
                    if Self.get(port: port).hasPrefix("HTTP/1.1 200") { lock.withLock { count += 1 } }
                    usleep(20_000)
                }
            }
        }

        /// One `GET /osfarm-probe` over a plain socket; the answer's first bytes ("" on failure).
        static func get(port: Int) -> String {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { return "" }
            defer { close(fd) }
            var timeout = timeval(tv_sec: 2, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else { return "" }
            let request = Array("GET /osfarm-probe HTTP/1.1\r\nHost: farm\r\nConnection: close\r\n\r\n".utf8)
            guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else { return "" }
            var buffer = [UInt8](repeating: 0, count: 256)
            let read = recv(fd, &buffer, buffer.count, 0)
            return read > 0 ? String(decoding: buffer[..<read], as: UTF8.self) : ""
        }

        var answered: Int { lock.withLock { count } }

        func stop() {
            lock.withLock { running = false }
            usleep(100_000)
        }
    }

    func testEachFrontEndIsDrainedBeforeItStopsAndTakesNoTrafficUntilSettingsAreApplied() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/haproxy") else {
            return XCTFail("haproxy is not installed: make test installs it (scripts/install-deps.sh)")
        }
        let farm = try TestFarm(frontEnds: 2, profile: .fast)
        defer { farm.shutdown() }
        let socket = farm.directory + "/haproxy.sock"
        let port = Int.random(in: 41000...49000)
        let frontEnds = farm.record.servers.filter { $0.role == .frontEnd }
        let config = """
            global
              stats socket \(socket) mode 600 level admin
            defaults
              mode http
              timeout connect 1s
              timeout client 5s
              timeout server 5s
            frontend web
              bind 127.0.0.1:\(port)
              default_backend outsystems
            backend outsystems
              balance roundrobin
            \(frontEnds.map { "  server \($0.name) \($0.address):\(farm.record.webPort)" }.joined(separator: "\n"))

            """
        try config.write(toFile: farm.directory + "/haproxy.cfg", atomically: true, encoding: .utf8)
        let haproxy = Process()
        haproxy.executableURL = URL(fileURLWithPath: "/usr/sbin/haproxy")
        haproxy.arguments = ["-f", farm.directory + "/haproxy.cfg", "-db"]
        haproxy.standardOutput = FileHandle.nullDevice
        haproxy.standardError = FileHandle.nullDevice
        try haproxy.run()
        defer { haproxy.terminate(); haproxy.waitUntilExit() }
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: socket) && Date() < deadline { usleep(50_000) }

        // The inventory declares the hook on the front-ends only (the controller is not behind the balancer).
        var inventory = try String(contentsOfFile: farm.record.inventory, encoding: .utf8)
        for frontEnd in frontEnds {
            inventory = inventory.replacingOccurrences(
                of: "  - name: \(frontEnd.name)\n",
                with: """
                      - name: \(frontEnd.name)
                        hooks:
                          before-stop: [\(Self.hook), disable, outsystems]
                          after-verify: [\(Self.hook), enable, outsystems]
                          timeout: 20

                    """)
        }
        let hooked = farm.directory + "/inventory-hooks.yaml"
        try inventory.write(toFile: hooked, atomically: true, encoding: .utf8)
        let plan = try osfarm(["move-db", "plan", "-i", hooked, "--to", farm.newDatabase])
        XCTAssertTrue(plan.stdout.contains("before-stop hook on the jump host: \(Self.hook) disable outsystems"), plan.stdout)
        XCTAssertTrue(
            plan.stdout.contains(
                "after-verify hook on the jump host: \(Self.hook) enable outsystems, once the after-steps (ConfigurationTool.com /ApplySettingsFactory) are done (hooks.rejoin: after-settings, the default)"
            ), plan.stdout)

        let traffic = Traffic(port: port)
        usleep(500_000)
        var environment = ProcessInfo.processInfo.environment
        environment["HAPROXY_SOCKET"] = socket
        environment["HAPROXY_DRAIN_SECONDS"] = "5"
        let result = try osfarm(
            ["move-db", "run", "--yes", "-i", hooked, "--to", farm.newDatabase, "--db-restored", "--state-dir", farm.stateDirectory],
            environment: environment)
        usleep(500_000)
        traffic.stop()
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        XCTAssertTrue(try farm.status().servers.allSatisfy { $0.database == farm.newDatabase && $0.allRunning })
        XCTAssertGreaterThan(traffic.answered, 20, "traffic went through HAProxy")

        let entries = try farm.journal(try farm.lastRunID())
        let applied = try XCTUnwrap(entries.first { $0.server == "dc1" && $0.step == "apply-settings" && $0.event == .finished }?.time)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for frontEnd in frontEnds {
            let drained = try XCTUnwrap(entries.first { $0.server == frontEnd.name && $0.step == "hook:before-stop" && $0.event == .finished }?.time)
            let stopped = try XCTUnwrap(entries.first { $0.server == frontEnd.name && $0.step == "stop-iis" && $0.event == .started }?.time)
            let back = try XCTUnwrap(
                entries.first { $0.server == frontEnd.name && $0.step == "hook:after-verify-after-settings" && $0.event == .started }?.time)
            let verified = try XCTUnwrap(entries.first { $0.server == frontEnd.name && $0.step == "verify" && $0.event == .finished }?.time)
            XCTAssertLessThanOrEqual(drained, stopped, "\(frontEnd.name): drained before it stopped")
            XCTAssertGreaterThanOrEqual(back, verified, "\(frontEnd.name): back only once verified")
            XCTAssertGreaterThanOrEqual(back, applied, "\(frontEnd.name): back only once /ApplySettingsFactory ran on dc1")
            let requests = SimulatedWebServer.requests(serverDirectory: frontEnd.directory).filter { $0.path == "/osfarm-probe" }
            let times = requests.compactMap { formatter.date(from: $0.time) ?? ISO8601DateFormatter().date(from: $0.time) }
            XCTAssertEqual(times.count, requests.count, "the web server's log times are readable")
            let during = times.filter { $0 > drained.addingTimeInterval(0.1) && $0 < back }
            XCTAssertEqual(during, [], "\(frontEnd.name) received traffic while drained (\(drained) to \(back))")
            XCTAssertTrue(times.contains { $0 < drained } && times.contains { $0 > back }, "\(frontEnd.name) served before and after: \(times.count) requests")
        }
    }
}
