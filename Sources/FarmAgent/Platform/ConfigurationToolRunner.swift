import FarmProtocol
import Foundation

/// Runs ConfigurationTool.com in one of its typed modes, streaming its output, with a deadline,
/// after waiting (bounded) for machine.config to be free.
struct ConfigurationToolRunner {
    let runner: any CommandRunner
    let files: ServerFiles
    let environment: HostEnvironment
    let installation: Installation
    var clock: any AgentClock = SystemClock()

    /// The tool's argv for a mode. Secrets go only here, inside the agent; never logged.
    ///
    /// On a farm on Windows (integrated) authentication the mode carries the administrator's
    /// password: `/UpgradeInstall` takes it as its argument, and `/InstallServiceCenter` and
    /// `/ApplySettingsFactory` each need it through `/WithWindowsAuthentication <pwd>` right after
    /// them (OutSystems 11 Configuration Tool command line reference).
    static func arguments(_ arguments: ConfigurationToolArguments) -> [String] {
        let integrated = arguments.mode.integratedAuthenticationPassword.map { ["/WithWindowsAuthentication", $0.reveal()] } ?? []
        var argv: [String]
        switch arguments.mode {
        case let .upgradeInstall(password):
            argv = ["/UpgradeInstall"] + (password.map { [$0.reveal()] } ?? [])
        case let .setupInstall(platform, logging):
            argv = ["/SetupInstall"]
            if let platform {
                argv += [platform.user, platform.password.reveal()]
                if let logging { argv += [logging.user, logging.password.reveal()] }
            }
        case let .rebuildSession(credentials):
            argv = ["/RebuildSession", credentials.user, credentials.password.reveal()]
        case .applySettingsFactory:
            // "cannot be used with other parameters": never with /InstallServiceCenter.
            return ["/ApplySettingsFactory"] + integrated
        case .generateTemplates:
            argv = ["/GenerateTemplates"]
        }
        if arguments.installServiceCenter { argv += ["/InstallServiceCenter"] + integrated }
        return argv
    }

    /// The switches of a run, for progress and logs: built from the mode, never from the argv, so
    /// an argument (a password starting with "/") cannot pass for a switch.
    static func switches(_ arguments: ConfigurationToolArguments) -> String {
        let integrated = arguments.mode.integratedAuthenticationPassword == nil ? [] : ["/WithWindowsAuthentication"]
        if case .applySettingsFactory = arguments.mode { return (["/ApplySettingsFactory"] + integrated).joined(separator: " ") }
        var names = ["/" + arguments.mode.name]
        if arguments.installServiceCenter { names += ["/InstallServiceCenter"] + integrated }
        return names.joined(separator: " ")
    }

    func run(_ arguments: ConfigurationToolArguments, progress: @escaping (String) -> Void) throws(AgentError) -> ConfigurationToolRun {
        guard files.exists(installation.configurationTool) else {
            throw AgentError(.notFound, "\(installation.configurationTool) is missing")
        }
        try waitForMachineConfig(bound: arguments.machineConfigWaitSeconds, progress: progress)
        let secrets = Self.secrets(in: arguments.mode)
        let logOffset = files.size(WindowsLocations.configurationToolLog)
        var tail: [String] = []
        let started = Date()
        progress("ConfigurationTool.com " + Self.switches(arguments))
        let result = try runner.run(installation.configurationTool, Self.arguments(arguments), timeout: arguments.timeoutSeconds) { line in
            let shown = Self.redact(line, secrets)
            tail.append(shown)
            if tail.count > 20 { tail.removeFirst() }
            progress(shown)
        }
        let logTail = files.tail(WindowsLocations.configurationToolLog, lines: 20, from: logOffset).map { Self.redact($0, secrets) }
        let run = ConfigurationToolRun(
            exitCode: result.exitCode, durationMilliseconds: Date().timeIntervalSince(started) * 1000,
            outputTail: tail, logTail: logTail)
        if result.timedOut {
            throw AgentError(
                .timedOut,
                "ConfigurationTool.com /\(arguments.mode.name) did not finish within \(Saturating.seconds(arguments.timeoutSeconds)) s and was stopped",
                detail: logTail)
        }
        guard result.exitCode == 0 else {
            let reason = tail.last(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) ?? "no output"
            throw AgentError(.operationFailed, "ConfigurationTool.com /\(arguments.mode.name) exited \(result.exitCode): \(reason)", detail: logTail)
        }
        return run
    }

    private func waitForMachineConfig(bound: Double, progress: (String) -> Void) throws(AgentError) {
        let path = environment.localPath(WindowsLocations.machineConfig)
        guard FileLockProbe.isLocked(path) else { return }
        progress("machine.config is locked by another process; waiting up to \(Saturating.seconds(bound)) s")
        let deadline = clock.now.addingTimeInterval(bound)
        while FileLockProbe.isLocked(path) {
            guard clock.now < deadline else {
                throw AgentError(
                    .timedOut,
                    "machine.config (\(WindowsLocations.machineConfig)) stayed locked by another process for \(Saturating.seconds(bound)) s; the Configuration Tool cannot run"
                )
            }
            clock.sleep(seconds: 0.25)
        }
        progress("machine.config is free")
    }

    private static func secrets(in mode: ConfigurationToolMode) -> [String] {
        switch mode {
        case let .upgradeInstall(password), let .applySettingsFactory(password): return password.map { [$0.reveal()] } ?? []
        case let .setupInstall(platform, logging): return [platform, logging].compactMap { $0?.password.reveal() }
        case let .rebuildSession(credentials): return [credentials.password.reveal()]
        case .generateTemplates: return []
        }
    }

    /// Defence in depth: a tool that echoes a password must not carry it into progress or logs.
    static func redact(_ line: String, _ secrets: [String]) -> String {
        secrets.filter { !$0.isEmpty }.reduce(line) { $0.replacingOccurrences(of: $1, with: Secret.redacted) }
    }
}
