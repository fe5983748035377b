import FarmProtocol
import Foundation

/// `sc.exe`: query, queryex, qc, stop, start, config, getkeyname, getdisplayname, with the real
/// program's output layout, Win32 error numbers and exit codes (fixtures in Tests/Fixtures/windows),
/// its labels and messages in the server's display language.
struct ServiceControlEmulator {
    let store: StateStore
    let text: ToolText

    /// The error report: header with the function and the Win32 error, then the system message.
    func failure(_ function: String, _ code: Int) -> String {
        ToolText.fill(text.failureHeader, function, String(code)) + "\r\n\r\n\(text.messages[code] ?? "Error \(code).")\r\n\r\n"
    }

    func run(_ arguments: [String], out: (String) -> Void) throws -> Int32 {
        let text = self.text
        guard let command = arguments.first?.lowercased(), arguments.count >= 2 else { return usage(out) }
        let name = arguments[1]
        switch command {
        case "query", "queryex":
            return try store.update { state in
                guard let service = state.service(name) else {
                    out(failure("EnumQueryServicesStatus:OpenService", 1060))
                    return 1060
                }
                out(Self.statusBlock(service, extended: command == "queryex", text: text))
                return 0
            }
        case "qc":
            return try store.update { state in
                guard let service = state.service(name) else {
                    out(failure("OpenService", 1060))
                    return 1060
                }
                out(Self.configurationBlock(service, text: text))
                return 0
            }
        case "stop":
            return try store.update { state in
                guard let index = state.serviceIndex(name) else {
                    out(failure("OpenService", 1060))
                    return 1060
                }
                switch state.services[index].state {
                case .stopped:
                    out(failure("ControlService", 1062))
                    return 1062
                case .stopPending, .startPending:
                    out(failure("ControlService", 1061))
                    return 1061
                default:
                    let stuck = state.faults.stuckStopping.contains { WindowsName.same($0, state.services[index].name) }
                    state.services[index].state = .stopPending
                    state.services[index].initialised = false
                    state.services[index].pendingUntil = stuck ? nil : Date().timeIntervalSince1970 + state.delay(state.timing.stopSeconds)
                    if !stuck {
                        SimulatedDelay.record("stop \(name)", seconds: state.delay(state.timing.stopSeconds), serverDirectory: store.serverDirectory)
                    }
                    out(Self.statusBlock(state.services[index], extended: false, afterControl: true, text: text))
                    return 0
                }
            }
        case "start":
            let (code, delay) = try store.update { state -> (Int32, Double) in
                guard let index = state.serviceIndex(name) else {
                    out(failure("OpenService", 1060))
                    return (1060, 0)
                }
                let service = state.services[index]
                if service.startType == .disabled {
                    out(failure("StartService", 1058))
                    return (1058, 0)
                }
                if service.state != .stopped {
                    out(failure("StartService", 1056))
                    return (1056, 0)
                }
                if state.faults.failingStart.contains(where: { WindowsName.same($0, service.name) }) {
                    // The service control manager gives up on a service that never reports running.
                    return (1053, state.delay(state.timing.startSeconds))
                }
                let now = Date().timeIntervalSince1970, starting = state.delay(state.timing.startSeconds)
                state.services[index].state = .startPending
                state.services[index].processID = state.newProcessID()
                state.services[index].pendingUntil = now + starting
                SimulatedDelay.record("start \(service.name)", start: now, seconds: starting, serverDirectory: store.serverDirectory)
                if FarmNetwork.servicePorts[service.name] != nil {
                    SimulatedDelay.record(
                        "initialise \(service.name)", start: now + starting,
                        seconds: state.delay(state.timing.initialisationSeconds), serverDirectory: store.serverDirectory)
                }
                out(Self.statusBlock(state.services[index], extended: true, afterControl: true, text: text))
                return (0, 0)
            }
            if code == 1053 {
                SimulatedDelay.record("start \(name) (fails, 1053)", seconds: delay, serverDirectory: store.serverDirectory)
                Thread.sleep(forTimeInterval: delay)
                out(failure("StartService", 1053))
            }
            return code
        case "config":
            guard arguments.count == 4, arguments[2].lowercased() == "start=",
                let type = ServiceStartType.allCases.first(where: { $0.configWord == arguments[3].lowercased() })
            else { return usage(out) }
            return try store.update { state in
                guard let index = state.serviceIndex(name) else {
                    out(failure("OpenService", 1060))
                    return 1060
                }
                state.services[index].startType = type
                out(ToolText.fill(text.success, "ChangeServiceConfig") + "\r\n")
                return 0
            }
        case "getkeyname", "getdisplayname":
            return try store.update { state in
                let byDisplay = command == "getkeyname"
                guard
                    let service = state.services.first(where: {
                        WindowsName.same(byDisplay ? $0.displayName : $0.name, name)
                    })
                else {
                    out(failure(byDisplay ? "GetServiceKeyName" : "GetServiceDisplayName", 1060))
                    return 1060
                }
                out(
                    ToolText.fill(text.success, byDisplay ? "GetServiceKeyName" : "GetServiceDisplayName")
                        + "\r\nName = \(byDisplay ? service.name : service.displayName)\r\n")
                return 0
            }
        default:
            return usage(out)
        }
    }

    private func usage(_ out: (String) -> Void) -> Int32 {
        out(
            "DESCRIPTION:\r\n        SC is a command line program used for communicating with the\r\n        Service Control Manager and services.\r\nUSAGE:\r\n        sc <server> [command] [service name] <option1> <option2>...\r\n"
        )
        return 1639
    }

    static func typeName(_ type: Int) -> String { type == 0x20 ? "WIN32_SHARE_PROCESS" : "WIN32_OWN_PROCESS" }

    /// `        LABEL              : value`: the label padded to sc.exe's column (19), or followed by
    /// one space when it is longer.
    static func field(_ label: String, _ value: String) -> String {
        "        " + label + String(repeating: " ", count: max(1, 19 - label.count)) + ": " + value
    }

    /// The block `sc query`/`queryex` prints (and `sc stop`/`start` after a control).
    static func statusBlock(_ service: SimulatedService, extended: Bool, afterControl: Bool = false, text: ToolText) -> String {
        let label = text.statusLabels
        var lines = [
            "",
            "\(label[0]): \(service.name) ",
            field(label[1], "\(String(service.type, radix: 16))  \(text.word(typeName(service.type)))  "),
            field(label[2], "\(service.state.code)  \(text.word(service.state.rawValue)) "),
        ]
        func flags(_ words: [String]) -> String { "                                (" + words.map(text.word).joined(separator: ", ") + ")" }
        switch service.state {
        case .running: lines.append(flags(["STOPPABLE", "NOT_PAUSABLE", "ACCEPTS_SHUTDOWN"]))
        case .stopPending, .startPending: lines.append(flags(["NOT_STOPPABLE", "NOT_PAUSABLE", "IGNORES_SHUTDOWN"]))
        default: break
        }
        let pending = service.state == .stopPending || service.state == .startPending
        lines += [
            field(label[3], "0  (0x0)"),
            field(label[4], "0  (0x0)"),
            field(label[5], pending ? "0x1" : "0x0"),
            field(label[6], pending ? "0x7d0" : "0x0"),
        ]
        if extended || (afterControl && service.state == .startPending) {
            lines.append(field(label[7], "\(service.processID ?? 0)"))
            lines.append(field(label[8], ""))
        }
        if !afterControl || service.state != .startPending { lines.append("") }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// What `sc qc` prints.
    static func configurationBlock(_ service: SimulatedService, text: ToolText) -> String {
        let label = text.configurationLabels
        let dependencies = service.name == "W3SVC" ? ["WAS", "HTTP"] : []
        var lines = [
            ToolText.fill(text.success, "QueryServiceConfig"),
            "",
            "\(label[0]): \(service.name)",
            field(label[1], "\(String(service.type, radix: 16))  \(text.word(typeName(service.type)))"),
            field(label[2], "\(service.startType.code)   \(text.word(service.startType.rawValue))"),
            field(label[3], "1   \(text.word("NORMAL"))"),
            field(label[4], service.binaryPath),
            field(label[5], ""),
            field(label[6], "0"),
            field(label[7], service.displayName),
            field(label[8], dependencies.first ?? ""),
        ]
        for dependency in dependencies.dropFirst() { lines.append(String(repeating: " ", count: 27) + ": " + dependency) }
        lines.append(field(label[9], "LocalSystem"))
        lines.append("")
        return lines.joined(separator: "\r\n") + "\r\n"
    }
}
