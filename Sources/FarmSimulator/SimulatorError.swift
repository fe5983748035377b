/// What can go wrong setting up or driving a simulated farm.
public enum SimulatorError: Error, Sendable, Equatable, CustomStringConvertible {
    case noFreeAddress(port: Int)
    case toolMissing(String, hint: String)
    case toolFailed(String, status: Int32, output: String)
    case sshdDidNotStart(server: String, log: String)
    case noFarm(directory: String)
    case farmExists(directory: String)
    case unknownServer(String)
    case unknownService(server: String, service: String, known: [String])
    case badFarmRecord(path: String, reason: String)
    case badSetting(option: String, value: String)
    case badLayout(String)

    public var description: String {
        switch self {
        case let .noFreeAddress(port):
            return "no free 127.x.y.z address found for port \(port)"
        case let .toolMissing(tool, hint):
            return "\(tool) is not installed: \(hint)"
        case let .toolFailed(tool, status, output):
            return "\(tool) failed with status \(status): \(output)"
        case let .sshdDidNotStart(server, log):
            return "sshd for \(server) did not start; its log says:\n\(log)"
        case let .noFarm(directory):
            return "no simulated farm in \(directory) (no farm.json)"
        case let .farmExists(directory):
            return "a simulated farm is already up in \(directory); run 'osfarm-sim farm down --dir \(directory)' first"
        case let .unknownServer(name):
            return "no simulated server named \(name)"
        case let .unknownService(server, service, known):
            return "\(server) has no service \"\(service)\"; its services: \(known.map { "\"\($0)\"" }.joined(separator: ", "))"
        case let .badFarmRecord(path, reason):
            return "\(path): \(reason)"
        case let .badSetting(option, value):
            return "\(option) \(value): give VALUE for every server or NAME=VALUE for one, with a known server name and value"
        case let .badLayout(reason):
            return reason
        }
    }
}
