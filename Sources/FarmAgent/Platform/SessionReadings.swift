import FarmProtocol
import Foundation

/// What the agent reads from the registry once per session (one agent process serves one run):
/// where OutSystems is installed, the names the host answers to, its language and code pages, and
/// the shell sshd starts sessions with, and of each service its start type or that it is not
/// installed. No operation of a run changes any of them, and each read is a `reg.exe` or `sc.exe`
/// start that every step used to repeat: a front-end's run read the installation sixteen times
/// and each start type five. A read that failed is not kept, so the next step tries again; what
/// was read of the services is read again after a Configuration Tool run (`forgetServices`), the
/// one program of a run that installs platform parts.
final class SessionReadings: @unchecked Sendable {
    private let lock = NSLock()
    private var installation: Installation?
    private var hostNames: HostNames?
    private var locale: HostLocale?
    private var shell: SessionShell?
    private var startTypes: [String: ServiceStartType] = [:]
    private var notInstalled: Set<String> = []

    func installation(runner: any CommandRunner) throws(AgentError) -> Installation {
        if let kept = lock.withLock({ installation }) { return kept }
        let read = try Installation.locate(runner: runner)
        lock.withLock { installation = read }
        return read
    }

    func hostNames(runner: any CommandRunner, environment: HostEnvironment) -> HostNames {
        if let kept = lock.withLock({ hostNames }) { return kept }
        let read = HostNames.read(runner: runner, environment: environment)
        if !read.names.isEmpty { lock.withLock { hostNames = read } }
        return read
    }

    func locale(runner: any CommandRunner, environment: HostEnvironment) -> HostLocale {
        if let kept = lock.withLock({ locale }) { return kept }
        let read = HostLocaleReading.read(runner: runner, environment: environment)
        if read.installLanguage != nil && read.oemCodePage != nil { lock.withLock { locale = read } }
        return read
    }

    func sessionShell(runner: any CommandRunner) -> SessionShell? {
        if let kept = lock.withLock({ shell }) { return kept }
        let read = SessionShellReading.read(runner: runner)
        if let read { lock.withLock { shell = read } }
        return read
    }

    func startType(of service: String) -> ServiceStartType? { lock.withLock { startTypes[service] } }
    func keep(_ startType: ServiceStartType, of service: String) { lock.withLock { startTypes[service] = startType } }
    func forgetStartType(of service: String) { lock.withLock { startTypes[service] = nil } }

    func isNotInstalled(_ service: String) -> Bool { lock.withLock { notInstalled.contains(service) } }
    func keepNotInstalled(_ service: String) { lock.withLock { _ = notInstalled.insert(service) } }

    func forgetServices() {
        lock.withLock {
            startTypes = [:]
            notInstalled = []
        }
    }
}
