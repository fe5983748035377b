import FarmController
import FarmProtocol
@testable import FarmSimulator
import Foundation
import Glibc
import XCTest

/// The status of `GET path` sent over a plain socket, as a load balancer's health check would.
func rawGet(address: String, port: Int, path: String) throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw POSIXError(.EIO) }
    defer { close(fd) }
    var timeout = timeval(tv_sec: 5, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var target = sockaddr_in()
    target.sin_family = sa_family_t(AF_INET)
    target.sin_port = in_port_t(UInt16(port).bigEndian)
    inet_pton(AF_INET, address, &target.sin_addr)
    let connected = withUnsafePointer(to: &target) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
    let request = Array("GET \(path) HTTP/1.1\r\nHost: \(address)\r\nConnection: close\r\n\r\n".utf8)
    _ = request.withUnsafeBufferPointer { send(fd, $0.baseAddress, $0.count, 0) }
    var answer: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = recv(fd, &buffer, buffer.count, 0)
        if count <= 0 { break }
        answer += buffer.prefix(count)
    }
    let statusLine = String(decoding: answer.prefix { $0 != 13 }, as: UTF8.self).split(separator: " ")
    return statusLine.count > 1 ? Int(statusLine[1]) ?? -1 : -1
}

/// Proof from the platform itself: the agent calls Service Center's GetPlatformInfo on localhost,
/// as OutSystems.SetupTools' Get-OSPlatformVersion does, and the simulated server answers only
/// while IIS, the OutSystems services and its platform database work.
final class PlatformProofTests: XCTestCase {
    private func platformInfo(_ session: AgentSession) async throws -> PlatformInfoReport {
        guard case let .platformInfo(report) = try await session.answer(.getPlatformInfo(PlatformInfoArguments(timeoutSeconds: 10))).data else {
            throw AgentError(.internalError, "no platform info")
        }
        return report
    }

    func testThePlatformAnswersWithItsVersionOnlyWhileIISServicesAndDatabaseWork() async throws {
        let farm = try TestFarm(frontEnds: 1, profile: .fast)
        defer { farm.shutdown() }
        let session = try await farm.session("fe1")
        let fe1 = try farm.simulated("fe1")

        let answered = try await platformInfo(session)
        XCTAssertTrue(answered.answered, "\(answered)")
        XCTAssertEqual(answered.version, try farm.status().servers.first { $0.name == "fe1" }?.platformVersion)
        XCTAssertEqual(answered.version, ServerBuilder.platformVersion)
        XCTAssertEqual(answered.serial, "SIM-FE1-0001")
        // Port 80 unless this machine holds it (then the simulator's ApplicationServerPort says which).
        let port = farm.record.webPort == 80 ? "" : ":\(farm.record.webPort)"
        XCTAssertEqual(answered.url, "http://127.0.0.1\(port)/ServiceCenter/OutSystemsPlatform.asmx")
        // The request reached fe1's own web server (localhost is the server itself), and no other.
        let logged = try XCTUnwrap(SimulatedWebServer.requests(serverDirectory: fe1.directory).last)
        XCTAssertEqual(logged.method, "POST")
        XCTAssertEqual(logged.path, "/ServiceCenter/OutSystemsPlatform.asmx")
        XCTAssertEqual(logged.status, 200)
        XCTAssertEqual(try farm.status().servers.first { $0.name == "dc1" }?.httpRequests, 0)

        let services = ServiceControlArguments(serviceTimeoutSeconds: 10)
        _ = try await session.answer(.stopIIS(services))
        let iisDown = try await platformInfo(session)
        XCTAssertEqual(iisDown.failure, .httpError)
        XCTAssertEqual(iisDown.httpStatus, 404)
        XCTAssertEqual(iisDown.reason, "HTTP 404 Not Found (Server: Microsoft-HTTPAPI/2.0)")
        _ = try await session.answer(.startIIS(services))

        _ = try await session.answer(.stopServices(services))
        let servicesDown = try await platformInfo(session)
        XCTAssertEqual(servicesDown.failure, .soapFault)
        XCTAssertEqual(servicesDown.httpStatus, 500)
        XCTAssertTrue(servicesDown.reason?.contains("OutSystems Deployment Service is not running") ?? false, "\(servicesDown)")
        _ = try await session.answer(.startServices(services))
        let again = try await platformInfo(session)
        XCTAssertTrue(again.answered, "\(again)")

        var fault = FaultRequest()
        fault.databaseDown = ["old"]
        try farm.inject(fault, on: "fe1")
        let databaseDown = try await platformInfo(session)
        XCTAssertEqual(databaseDown.failure, .soapFault)
        XCTAssertTrue(
            databaseDown.reason?.contains("A network-related or instance-specific error occurred while establishing a connection to SQL Server") ?? false,
            "\(databaseDown)")
        await session.close()
        XCTAssertEqual(SimulatedWebServer.requests(serverDirectory: fe1.directory).map(\.status), [200, 404, 500, 200, 500])
    }

    func testTheVersionIsTheServersOwnAndAFrozenServerFailsAtTheDeadline() async throws {
        let farm = try TestFarm(frontEnds: 1)
        defer { farm.shutdown() }
        var drift = FaultRequest()
        drift.drift.platformVersion = "11.24.1.3"
        try farm.inject(drift, on: "fe1")
        let fe = try await farm.session("fe1")
        let dc = try await farm.session("dc1")
        let feInfo = try await platformInfo(fe)
        let dcInfo = try await platformInfo(dc)
        XCTAssertEqual(feInfo.version, "11.24.1.3")
        XCTAssertEqual(dcInfo.version, ServerBuilder.platformVersion)

        // A web server that takes the connection and never answers: the call ends at its deadline.
        let network = try XCTUnwrap(farm.record.networkPID)
        ProcessTree.signalTree(network, SIGSTOP)
        defer { ProcessTree.signalTree(network, SIGCONT) }
        let started = Date()
        guard case let .platformInfo(frozen) = try await fe.answer(.getPlatformInfo(PlatformInfoArguments(timeoutSeconds: 1.5))).data else {
            return XCTFail("no platform info")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
        XCTAssertEqual(frozen.failure, .timedOut, "\(frozen)")
        ProcessTree.signalTree(network, SIGCONT)
        await fe.close()
        await dc.close()
    }

    /// As SetupTools does, the agent calls 127.0.0.1 (the server itself), not localhost, which can
    /// resolve to ::1 first; an IIS binding with a host name needs the inventory's
    /// service-center.host; a farm that enforces HTTPS is named as such, with the inventory's fix,
    /// and over HTTPS only the server's own certificate is accepted (issue 19, point 5).
    func testServiceCenterOnLoopbackWithAHostNamedBindingAndBehindAnHTTPSRedirect() async throws {
        let farm = try TestFarm(frontEnds: 0, profile: .fast)
        defer { farm.shutdown() }
        let dc1 = try farm.simulated("dc1")
        let session = try await farm.session("dc1")
        func call(_ arguments: PlatformInfoArguments) async throws -> PlatformInfoReport {
            guard case let .platformInfo(report) = try await session.answer(.getPlatformInfo(arguments)).data else {
                throw AgentError(.internalError, "no platform info")
            }
            return report
        }
        var ipv6 = FaultRequest()
        ipv6.hostsEntries["localhost"] = "::1"
        try farm.inject(ipv6, on: "dc1")
        let loopback = try await call(PlatformInfoArguments(timeoutSeconds: 10))
        XCTAssertTrue(loopback.answered, "localhost is ::1 here, 127.0.0.1 is not: \(loopback)")
        let port = farm.record.webPort == 80 ? "" : ":\(farm.record.webPort)"
        XCTAssertEqual(loopback.url, "http://127.0.0.1\(port)/ServiceCenter/OutSystemsPlatform.asmx")

        var binding = FaultRequest()
        binding.iisHostBinding = "osfarm-dc1.example.com"
        try farm.inject(binding, on: "dc1")
        let unbound = try await call(PlatformInfoArguments(timeoutSeconds: 10))
        XCTAssertEqual(unbound.httpStatus, 404)
        XCTAssertTrue(unbound.reason?.hasSuffix("set service-center.host in the inventory") ?? false, "\(unbound)")
        let bound = try await call(PlatformInfoArguments(timeoutSeconds: 10, hostHeader: "osfarm-dc1.example.com"))
        XCTAssertTrue(bound.answered, "\(bound)")
        // Ground truth: the server's own log (written just after it answers).
        let logged = Date().addingTimeInterval(5)
        while SimulatedWebServer.requests(serverDirectory: dc1.directory).last?.status != 200 && Date() < logged { usleep(20_000) }
        XCTAssertEqual(SimulatedWebServer.requests(serverDirectory: dc1.directory).suffix(2).map(\.status), [404, 200])

        var https = FaultRequest()
        https.forceHTTPS = true
        try farm.inject(https, on: "dc1")
        let redirected = try await call(PlatformInfoArguments(timeoutSeconds: 10, hostHeader: "osfarm-dc1.example.com"))
        XCTAssertEqual(redirected.httpStatus, 302)
        XCTAssertTrue(
            redirected.reason?.contains(
                "Service Center redirects to https://osfarm-dc1.example.com/ServiceCenter/OutSystemsPlatform.asmx; the farm enforces HTTPS:"
                    + " set service-center.scheme: https in the inventory") ?? false,
            "\(redirected)")

        // HTTPS (service-center.scheme: https) with the server's own certificate: .NET finds the
        // name mismatched on loopback, the script accepts it as the server's own, and says so.
        var own = FaultRequest()
        own.httpsBinding = .own
        try farm.inject(own, on: "dc1")
        let httpsPort = try XCTUnwrap(try farm.status().servers.first { $0.name == "dc1" }?.httpsPort)
        let listening = Date().addingTimeInterval(10)
        while !Loopback.answers(address: dc1.address, port: httpsPort) && Date() < listening { usleep(20_000) }
        let overHTTPS = PlatformInfoArguments(timeoutSeconds: 10, hostHeader: "osfarm-dc1.example.com", port: httpsPort, scheme: .https)
        let secure = try await call(overHTTPS)
        XCTAssertTrue(secure.answered, "\(secure)")
        XCTAssertEqual(secure.version, ServerBuilder.platformVersion)
        XCTAssertEqual(secure.url, "https://osfarm-dc1.example.com\(httpsPort == 443 ? "" : ":\(httpsPort)")/ServiceCenter/OutSystemsPlatform.asmx")
        XCTAssertEqual(secure.certificate?.errors, "RemoteCertificateNameMismatch")
        XCTAssertEqual(secure.certificate?.subject, "CN=dc1")
        XCTAssertEqual(secure.certificate?.accepted, true)
        XCTAssertEqual(
            try PlatformVersion.proof(secure, expected: ServerBuilder.platformVersion, server: "dc1"),
            "Service Center answers: platform \(ServerBuilder.platformVersion); over HTTPS, certificate \(secure.certificate?.summary ?? "")")
        // Ground truth: dc1's own web server answered it, on the HTTPS binding (no redirect there).
        while SimulatedWebServer.requests(serverDirectory: dc1.directory).count < 5 && Date() < listening { usleep(20_000) }
        XCTAssertEqual(SimulatedWebServer.requests(serverDirectory: dc1.directory).map(\.status).suffix(2), [302, 200])

        // A certificate the server does not hold: refused before any request is sent, and named.
        var foreign = FaultRequest()
        foreign.httpsBinding = .foreign
        try farm.inject(foreign, on: "dc1")
        let refused = try await call(overHTTPS)
        XCTAssertEqual(refused.failure, .certificateRefused, "\(refused)")
        XCTAssertEqual(refused.certificate?.errors, "RemoteCertificateNameMismatch, RemoteCertificateChainErrors")
        XCTAssertTrue(refused.reason?.contains("CN=localhost") ?? false, "\(refused)")
        XCTAssertTrue(refused.reason?.contains("refused: it is not one of this server's own") ?? false, "\(refused)")
        XCTAssertThrowsError(try PlatformVersion.proof(refused, expected: ServerBuilder.platformVersion, server: "dc1"))
        XCTAssertEqual(SimulatedWebServer.requests(serverDirectory: dc1.directory).count, 5, "nothing reached the web server")
        await session.close()
    }

    func testEveryRequestIsLoggedAndTheApplicationPageFollowsIIS() async throws {
        let farm = try TestFarm(frontEnds: 1, profile: .fast)
        defer { farm.shutdown() }
        let fe1 = try farm.simulated("fe1")
        func get(_ path: String) throws -> Int { try rawGet(address: fe1.address, port: farm.record.webPort, path: path) }
        XCTAssertEqual(try get("/osfarm-probe"), 200)
        XCTAssertEqual(try get("/"), 200)
        XCTAssertEqual(try get("/no/such/page"), 404)
        let session = try await farm.session("fe1")
        _ = try await session.answer(.stopIIS(ServiceControlArguments(serviceTimeoutSeconds: 10)))
        await session.close()
        XCTAssertEqual(try get("/osfarm-probe"), 404, "HTTP.sys answers for a stopped IIS")
        let requests = SimulatedWebServer.requests(serverDirectory: fe1.directory)
        XCTAssertEqual(requests.map(\.path), ["/osfarm-probe", "/", "/no/such/page", "/osfarm-probe"])
        XCTAssertEqual(requests.map(\.status), [200, 200, 404, 404])
        XCTAssertTrue(requests.allSatisfy { !$0.time.isEmpty && !$0.client.isEmpty })
        XCTAssertEqual(try farm.status().servers.first { $0.name == "fe1" }?.httpRequests, 4)
        XCTAssertEqual(try farm.status().servers.first { $0.name == "dc1" }?.httpRequests, 0, "a server nobody called received nothing")
    }
}
