import FarmProtocol
import Foundation

/// Whether a database server answers from this server, as SqlClient would reach it: a given port
/// directly (clients never ask Browser then), a default instance on 1433, and a named instance
/// without a port through SQL Server Browser first ("SQL Server Browser service", SQL Server docs).
struct DatabaseProber {
    let environment: HostEnvironment

    func probe(_ arguments: DatabaseProbeArguments) -> DatabaseProbeResult {
        let started = Date()
        let address = arguments.address
        let target = environment.resolve(address.networkHost)
        func result(
            port: Int?, source: DatabasePortSource?, reachable: Bool, failure: DatabaseProbeFailure?, message: String,
            instances: [String]? = nil
        ) -> DatabaseProbeResult {
            DatabaseProbeResult(
                address: address, port: port, portSource: source, reachable: reachable,
                milliseconds: Date().timeIntervalSince(started) * 1000, failure: failure, message: message, browserInstances: instances)
        }
        func connect(_ port: Int, _ source: DatabasePortSource) -> DatabaseProbeResult {
            let how: String
            switch source {
            case .given: how = "the port the address gives"
            case .defaultPort: how = "the default instance's port"
            case .browser: how = "announced by SQL Server Browser"
            }
            switch TCPProbe.connect(host: target, port: port, timeout: arguments.timeoutSeconds) {
            case .answered:
                return result(port: port, source: source, reachable: true, failure: nil, message: "\(address) answers on TCP \(port) (\(how))")
            case let .failed(reason):
                let failure: DatabaseProbeFailure = reason.hasPrefix("cannot resolve") ? .unresolvable : .unreachable
                return result(
                    port: port, source: source, reachable: false, failure: failure,
                    message: "\(address) does not answer on TCP \(port) (\(how)): \(reason)")
            }
        }
        if let port = address.port { return connect(port, .given) }
        guard let instance = address.instance else { return connect(DatabaseServerAddress.defaultPort, .defaultPort) }

        let suggestion = "give the port in the address: \(address.host)\\\(instance),PORT"
        guard let request = SQLBrowserClient.instanceRequest(instance) else {
            return result(
                port: nil, source: nil, reachable: false, failure: .instanceUnknown,
                message: "the instance name \(instance) is longer than SQL Server Browser's 32 bytes; \(suggestion)")
        }
        switch SQLBrowserClient.ask(request, address: target, timeout: arguments.browserTimeoutSeconds) {
        case let .unresolvable(reason):
            return result(port: nil, source: nil, reachable: false, failure: .unresolvable, message: "\(address): \(reason)")
        case let .instances(instances):
            guard let described = instances.first(where: { $0.instanceName.caseInsensitiveCompare(instance) == .orderedSame }) else {
                return result(
                    port: nil, source: nil, reachable: false, failure: .instanceUnknown,
                    message: "SQL Server Browser on \(address.host) answered about other instances, not \(instance); \(suggestion)",
                    instances: instances.map(\.instanceName))
            }
            guard let port = described.tcpPort else {
                return result(
                    port: nil, source: nil, reachable: false, failure: .instanceWithoutTCP,
                    message: "SQL Server Browser on \(address.host) announces no TCP port for \(instance) (TCP/IP disabled for it?); \(suggestion)")
            }
            return connect(port, .browser)
        case let .silent(reason):
            // Silence is what Browser gives for an instance it does not know, too: ask for the list.
            switch SQLBrowserClient.ask(SQLBrowserClient.listRequest, address: target, timeout: arguments.browserTimeoutSeconds) {
            case let .instances(instances):
                let names = instances.map(\.instanceName)
                return result(
                    port: nil, source: nil, reachable: false, failure: .instanceUnknown,
                    message: "SQL Server Browser on \(address.host) does not know instance \(instance) (it lists "
                        + (names.isEmpty ? "none" : names.joined(separator: ", "))
                        + "; a hidden instance is never listed); \(suggestion)",
                    instances: names)
            case .silent, .unresolvable:
                return result(
                    port: nil, source: nil, reachable: false, failure: .browserSilent,
                    message:
                        "SQL Server Browser on \(address.host) did not answer (\(reason)), so the port of instance \(instance) is unknown from here; \(suggestion)"
                )
            }
        }
    }
}
