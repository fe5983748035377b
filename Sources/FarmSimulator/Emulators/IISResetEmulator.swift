import FarmProtocol
import Foundation

/// `iisreset.exe /stop | /start | /status`: stops or starts W3SVC and WAS and says so as the real
/// one does, in the server's display language.
struct IISResetEmulator {
    let store: StateStore
    let text: ToolText

    func run(_ arguments: [String], out: (String) -> Void) throws -> Int32 {
        switch arguments.first?.lowercased() {
        case "/stop":
            out("\r\n\(text.iisAttemptingStop)\r\n")
            let delay = try store.update { $0.delay($0.timing.iisSeconds) }
            SimulatedDelay.record("iisreset /stop", seconds: delay, serverDirectory: store.serverDirectory)
            Thread.sleep(forTimeInterval: delay)
            try store.update { state in
                for name in ["W3SVC", "WAS"] {
                    guard let index = state.serviceIndex(name) else { continue }
                    state.services[index].state = .stopped
                    state.services[index].processID = nil
                    state.services[index].runningSince = nil
                    state.services[index].pendingUntil = nil
                }
            }
            out(text.iisStopped + "\r\n")
            return 0
        case "/start":
            out("\r\n\(text.iisAttemptingStart)\r\n")
            let delay = try store.update { $0.delay($0.timing.iisSeconds) }
            SimulatedDelay.record("iisreset /start", seconds: delay, serverDirectory: store.serverDirectory)
            Thread.sleep(forTimeInterval: delay)
            try store.update { state in
                for name in ["WAS", "W3SVC"] {
                    guard let index = state.serviceIndex(name), state.services[index].state != .running else { continue }
                    state.services[index].state = .running
                    state.services[index].processID = state.newProcessID()
                    state.services[index].runningSince = Date().timeIntervalSince1970
                    state.services[index].pendingUntil = nil
                }
            }
            out(text.iisStarted + "\r\n")
            return 0
        case "/status":
            let state = try store.read()
            for name in ["WAS", "W3SVC"] {
                guard let service = state.service(name) else { continue }
                out(ToolText.fill(text.iisStatus, service.displayName, service.name, service.state == .running ? text.iisRunning : text.iisStopped2) + "\r\n")
            }
            return 0
        default:
            out(
                "\r\nUsage:\r\niisreset.exe [computername]\r\n    /RESTART            Stop and then restart all Internet services.\r\n    /START              Start all Internet services.\r\n    /STOP               Stop all Internet services.\r\n    /STATUS             Display status of all Internet services.\r\n"
            )
            return 1
        }
    }
}
