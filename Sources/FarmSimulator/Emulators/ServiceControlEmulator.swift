import FarmProtocol
import Foundation

/// `sc.exe`: query, queryex, qc, stop, start, config, getkeyname, getdisplayname, with the real
/// program's output layout, Win32 error numbers and exit codes (fixtures in Tests/FarmAgentTests/Fixtures/windows).
struct ServiceControlEmulator {
    let store: StateStore

    static let messages: [Int: String] = [
        1053: "The service did not respond to the start or control request in a timely fashion.",
        1056: "An instance of the service is already running.",
        1058: "The service cannot be started, either because it is disabled or because it has no enabled devices associated with it.",
        1060: "The specified service does not exist as an installed service.",
        1061: "The service cannot accept control messages at this time.",
        1062: "The service has not been started.",
    ]

    static func failure(_ function: String, _ code: Int) -> String {
        "[SC] \(function) FAILED \(code):\r\n\r\n\(messages[code] ?? "Error \(code).")\r\n\r\n"
    }

    func run(_ arguments: [String], out: (String) -> Void) throws -> Int32 {
        guard let command = arguments.first?.lowercased(), arguments.count >= 2 else { return usage(out) }
        let name = arguments[1]
        switch command {
        case "query", "queryex":
            return try store.update { state in
                guard let service = state.service(name) else {
                    out(Self.failure("EnumQueryServicesStatus:OpenService", 1060))
                    return 1060
                }
                out(Self.statusBlock(service, extended: command == "queryex"))
                return 0
            }
        case "qc":
            return try store.update { state in
                guard let service = state.service(name) else {
                    out(Self.failure("OpenService", 1060))
                    return 1060
                }
                out(Self.configurationBlock(service))
                return 0
            }
        case "stop":
            return try store.update { state in
                guard let index = state.serviceIndex(name) else {
                    out(Self.failure("OpenService", 1060))
                    return 1060
                }
                switch state.services[index].state {
                case .stopped:
                    out(Self.failure("ControlService", 1062))
                    return 1062
                case .stopPending, .startPending:
                    out(Self.failure("ControlService", 1061))
                    return 1061
                default:
                    let stuck = state.faults.stuckStopping.contains { $0.caseInsensitiveCompare(state.services[index].name) == .orderedSame }
                    state.services[index].state = .stopPending
                    state.services[index].initialised = false
                    state.services[index].pendingUntil = stuck ? nil : Date().timeIntervalSince1970 + state.delay(state.profile.stopSeconds)
                    if !stuck {
                        SimulatedDelay.record("stop \(name)", seconds: state.delay(state.profile.stopSeconds), serverDirectory: store.serverDirectory)
                    }
                    out(Self.statusBlock(state.services[index], extended: false, afterControl: true))
                    return 0
                }
            }
        case "start":
            let (code, delay) = try store.update { state -> (Int32, Double) in
                guard let index = state.serviceIndex(name) else {
                    out(Self.failure("OpenService", 1060))
                    return (1060, 0)
                }
                let service = state.services[index]
                if service.startType == .disabled {
                    out(Self.failure("StartService", 1058))
                    return (1058, 0)
                }
                if service.state != .stopped {
                    out(Self.failure("StartService", 1056))
                    return (1056, 0)
                }
                if state.faults.failingStart.contains(where: { $0.caseInsensitiveCompare(service.name) == .orderedSame }) {
                    // The service control manager gives up on a service that never reports running.
                    return (1053, state.delay(state.profile.startSeconds))
                }
                let now = Date().timeIntervalSince1970, starting = state.delay(state.profile.startSeconds)
                state.services[index].state = .startPending
                state.services[index].processID = state.newProcessID()
                state.services[index].pendingUntil = now + starting
                SimulatedDelay.record("start \(service.name)", start: now, seconds: starting, serverDirectory: store.serverDirectory)
                if FarmNetwork.servicePorts[service.name] != nil {
                    SimulatedDelay.record("initialise \(service.name)", start: now + starting,
                                          seconds: state.delay(state.profile.initialisationSeconds), serverDirectory: store.serverDirectory)
                }
                out(Self.statusBlock(state.services[index], extended: true, afterControl: true))
                return (0, 0)
            }
            if code == 1053 {
                SimulatedDelay.record("start \(name) (fails, 1053)", seconds: delay, serverDirectory: store.serverDirectory)
                Thread.sleep(forTimeInterval: delay)
                out(Self.failure("StartService", 1053))
            }
            return code
        case "config":
            guard arguments.count == 4, arguments[2].lowercased() == "start=",
                let type = ServiceStartType.allCases.first(where: { $0.configWord == arguments[3].lowercased() })
            else { return usage(out) }
            return try store.update { state in
                guard let index = state.serviceIndex(name) else {
                    out(Self.failure("OpenService", 1060))
                    return 1060
                }
                state.services[index].startType = type
                out("[SC] ChangeServiceConfig SUCCESS\r\n")
                return 0
            }
        case "getkeyname", "getdisplayname":
            return try store.update { state in
                let byDisplay = command == "getkeyname"
                guard let service = state.services.first(where: {
                    (byDisplay ? $0.displayName : $0.name).caseInsensitiveCompare(name) == .orderedSame
                }) else {
                    out(Self.failure(byDisplay ? "GetServiceKeyName" : "GetServiceDisplayName", 1060))
                    return 1060
                }
                out("[SC] \(byDisplay ? "GetServiceKeyName" : "GetServiceDisplayName") SUCCESS\r\nName = \(byDisplay ? service.name : service.displayName)\r\n")
                return 0
            }
        default:
            return usage(out)
        }
    }

    private func usage(_ out: (String) -> Void) -> Int32 {
        out("DESCRIPTION:\r\n        SC is a command line program used for communicating with the\r\n        Service Control Manager and services.\r\nUSAGE:\r\n        sc <server> [command] [service name] <option1> <option2>...\r\n")
        return 1639
    }

    static func typeName(_ type: Int) -> String { type == 0x20 ? "WIN32_SHARE_PROCESS" : "WIN32_OWN_PROCESS" }

    /// The block `sc query`/`queryex` prints (and `sc stop`/`start` after a control).
    static func statusBlock(_ service: SimulatedService, extended: Bool, afterControl: Bool = false) -> String {
        var lines = [
            "",
            "SERVICE_NAME: \(service.name) ",
            "        TYPE               : \(String(format: "%x", service.type))  \(typeName(service.type))  ",
            "        STATE              : \(service.state.code)  \(service.state.rawValue) ",
        ]
        switch service.state {
        case .running: lines.append("                                (STOPPABLE, NOT_PAUSABLE, ACCEPTS_SHUTDOWN)")
        case .stopPending, .startPending: lines.append("                                (NOT_STOPPABLE, NOT_PAUSABLE, IGNORES_SHUTDOWN)")
        default: break
        }
        let pending = service.state == .stopPending || service.state == .startPending
        lines += [
            "        WIN32_EXIT_CODE    : 0  (0x0)",
            "        SERVICE_EXIT_CODE  : 0  (0x0)",
            "        CHECKPOINT         : \(pending ? "0x1" : "0x0")",
            "        WAIT_HINT          : \(pending ? "0x7d0" : "0x0")",
        ]
        if extended || (afterControl && service.state == .startPending) {
            lines.append("        PID                : \(service.processID ?? 0)")
            lines.append("        FLAGS              : ")
        }
        if !afterControl || service.state != .startPending { lines.append("") }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// What `sc qc` prints.
    static func configurationBlock(_ service: SimulatedService) -> String {
        let dependencies = service.name == "W3SVC" ? ["WAS", "HTTP"] : []
        var lines = [
            "[SC] QueryServiceConfig SUCCESS",
            "",
            "SERVICE_NAME: \(service.name)",
            "        TYPE               : \(String(format: "%x", service.type))  \(typeName(service.type))",
            "        START_TYPE         : \(service.startType.code)   \(service.startType.rawValue)",
            "        ERROR_CONTROL      : 1   NORMAL",
            "        BINARY_PATH_NAME   : \(service.binaryPath)",
            "        LOAD_ORDER_GROUP   : ",
            "        TAG                : 0",
            "        DISPLAY_NAME       : \(service.displayName)",
            "        DEPENDENCIES       : \(dependencies.first ?? "")",
        ]
        for dependency in dependencies.dropFirst() { lines.append("                           : \(dependency)") }
        lines.append("        SERVICE_START_NAME : LocalSystem")
        lines.append("")
        return lines.joined(separator: "\r\n") + "\r\n"
    }
}
