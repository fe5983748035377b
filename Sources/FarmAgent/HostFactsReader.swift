import FarmProtocol
import Foundation

/// Reads the facts of the machine the agent runs on, through Foundation only (works on Windows).
public enum HostFactsReader {
    @Sendable public static func read() -> HostFacts {
        let info = ProcessInfo.processInfo
        #if os(Windows)
            let system = "Windows \(info.operatingSystemVersionString)"
        #else
            let system = info.operatingSystemVersionString
        #endif
        return HostFacts(hostname: info.hostName, operatingSystem: system, processID: info.processIdentifier)
    }
}
