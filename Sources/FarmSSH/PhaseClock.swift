import Foundation
import Logging

/// Times the phases of a connection for the diagnostic log: each `done` logs the phase with the
/// milliseconds since the previous one.
struct PhaseClock {
    let logger: Logger
    private var last = DispatchTime.now()

    init(logger: Logger) { self.logger = logger }

    mutating func done(_ phase: String) {
        let now = DispatchTime.now()
        let milliseconds = Double(now.uptimeNanoseconds - last.uptimeNanoseconds) / 1_000_000
        last = now
        logger.debug("\(phase) (\(String(format: "%.1f", milliseconds)) ms)")
    }
}
