import FarmProtocol
import Foundation

/// A service still STOP_PENDING at its deadline (common with the OutSystems Scheduler): either end
/// its process and wait for STOPPED, or fail naming the process and the option that would end it.
///
/// It ends the process with `taskkill.exe /PID n /F` by absolute path rather than the Win32 API
/// (OpenProcess + TerminateProcess): the agent drives every Windows change through a program by
/// path (sc.exe, iisreset.exe, reg.exe), which keeps one code path on Windows and in the simulator,
/// where taskkill.exe is emulated with the real program's output and exit codes. When a service's
/// process ends, the service control manager reports the service STOPPED.
struct StuckServiceKiller {
    let control: ServiceControl
    let runner: any CommandRunner

    static let taskKill = WindowsLocations.system32 + #"\taskkill.exe"#
    /// taskkill's exit code when no process has the PID (it ended meanwhile).
    static let processNotFound: Int32 = 128

    func resolve(
        _ name: String, timedOut: AgentError, kill: Bool, timeout: Double, startType: ServiceStartType,
        progress: @escaping (String) -> Void
    ) throws(AgentError) -> ServiceControl.Outcome {
        guard let now = try control.query(name) else { throw AgentError(.notFound, "\(name) is no longer installed") }
        if now.state == .stopped {
            return .changed(ServiceStatus(name: name, state: .stopped, startType: startType, processID: now.processID))
        }
        // Only a stop that hangs is ended; any other state is reported as it is.
        guard now.state == .stopPending, let pid = now.processID, pid > 0 else { throw timedOut }
        let process = "PID \(pid)" + (imageName(of: name).map { " (\($0))" } ?? "")
        guard kill else {
            throw AgentError(.timedOut, "\(timedOut.message); its process is \(process). To end it, carry the run on with --kill-stuck-services")
        }
        progress("\(name) is still STOP_PENDING after \(Int(timeout.rounded())) s; ending its process \(process)")
        let result = try runner.run(Self.taskKill, ["/PID", String(pid), "/F"], timeout: 30)
        let said = result.output.trimmingCharacters(in: .whitespacesAndNewlines)
        guard result.exitCode == 0 || result.exitCode == Self.processNotFound else {
            throw AgentError(.operationFailed, "\(name) is stuck STOP_PENDING and taskkill /PID \(pid) /F exited \(result.exitCode): \(said.prefix(300))")
        }
        if !said.isEmpty { progress(said) }
        let final = try control.wait(name, for: .stopped, timeout: max(timeout, 10), startType: startType)
        progress("\(name) stopped once its process \(process) was ended")
        return .ended(final, processID: pid)
    }

    /// The program the service runs (e.g. "Scheduler.exe"), from its `ImagePath` in the registry;
    /// nil when it cannot be read.
    func imageName(of name: String) -> String? {
        guard let result = try? runner.run(WindowsLocations.registryTool, ["query", ServiceCatalog.registryKey(of: name), "/v", "ImagePath"]),
            result.exitCode == 0, let values = try? RegistryOutput.parse(result.output),
            let path = values.first(where: { $0.name.caseInsensitiveCompare("ImagePath") == .orderedSame })?.data
        else { return nil }
        return Self.program(inImagePath: path)
    }

    /// The file name of the program an ImagePath starts: quoted (`"C:\…\x.exe" -args`), or not
    /// (`C:\Program Files\…\x.exe`, spaces and all, up to `.exe`).
    static func program(inImagePath value: String) -> String? {
        var path = value.trimmingCharacters(in: .whitespaces)
        if path.hasPrefix("\"") {
            path = String(path.dropFirst().prefix { $0 != "\"" })
        } else if let exe = path.range(of: ".exe", options: .caseInsensitive) {
            path = String(path[..<exe.upperBound])
        } else {
            path = String(path.prefix { $0 != " " })
        }
        let name = path.split(separator: "\\").last.map(String.init) ?? ""
        return name.isEmpty ? nil : name
    }
}
