import Foundation

/// `taskkill.exe /PID n [/PID n …] [/T] [/F]` over the simulated services' processes.
///
/// Syntax from Microsoft's `taskkill` command reference (windows-commands/taskkill). Output and
/// exit codes as the real program prints them in public reports:
/// - `SUCCESS: The process with PID n has been terminated.`, exit 0;
/// - `ERROR: The process "n" not found.`, exit 128 (ayedo/tcpkiller#3: 39 bytes of output for
///   PID 22524 with exit 128; buildbot/buildbot#6140);
/// - `ERROR: The process with PID n could not be terminated.` and `Reason: This process can only be
///   terminated forcefully (with /F option).` without /F, exit 1 (uwerat/qskinny#304,
///   coreybutler/node-windows#250);
/// - `ERROR: Invalid argument/option - 'x'.` and `Type "TASKKILL /?" for usage.`, exit 1.
/// When a service's process ends, the service control manager reports the service STOPPED (every
/// service sharing the process: W3SVC and WAS share one svchost).
struct TaskKillEmulator {
    let store: StateStore

    func run(_ arguments: [String], out: (String) -> Void) throws -> Int32 {
        var pids: [String] = []
        var force = false
        var index = 0
        while index < arguments.count {
            let option = arguments[index].lowercased()
            switch option {
            case "/pid":
                guard index + 1 < arguments.count else { return invalid(arguments[index], out) }
                pids.append(arguments[index + 1])
                index += 2
            case "/f":
                force = true
                index += 1
            case "/t":
                index += 1
            default:
                return invalid(arguments[index], out)
            }
        }
        guard !pids.isEmpty else {
            out("ERROR: Invalid syntax. Neither /FI nor /PID nor /IM were specified.\r\nType \"TASKKILL /?\" for usage.\r\n")
            return 1
        }
        var code: Int32 = 0
        for text in pids {
            guard text.count <= 10, let pid = Int(text) else { return invalid(text, out) }
            let result = try store.update { state -> Int32 in
                let owners = state.services.indices.filter { state.services[$0].processID == pid }
                guard !owners.isEmpty else { return 128 }
                guard force else { return 1 }
                for owner in owners {
                    state.services[owner].state = .stopped
                    state.services[owner].processID = nil
                    state.services[owner].pendingUntil = nil
                    state.services[owner].runningSince = nil
                    state.services[owner].initialised = false
                }
                return 0
            }
            switch result {
            case 0: out("SUCCESS: The process with PID \(pid) has been terminated.\r\n")
            case 128: out("ERROR: The process \"\(pid)\" not found.\r\n")
            default:
                out(
                    "ERROR: The process with PID \(pid) could not be terminated.\r\nReason: This process can only be terminated forcefully (with /F option).\r\n"
                )
            }
            if result != 0 { code = result }
        }
        return code
    }

    private func invalid(_ argument: String, _ out: (String) -> Void) -> Int32 {
        out("ERROR: Invalid argument/option - '\(argument)'.\r\nType \"TASKKILL /?\" for usage.\r\n")
        return 1
    }
}
