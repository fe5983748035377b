import Dispatch
import FarmProtocol
import Foundation

/// Runs independent read-only queries (one `sc.exe` each) a few at a time: an `inspect` reads eight
/// services with two programs each, and most of that time is spent waiting for processes to start
/// and end. Results keep the input order; the first error in input order is thrown.
enum ParallelReads {
    static let width = 4

    static func map<Item: Sendable, Output: Sendable>(
        _ items: [Item], _ body: @escaping @Sendable (Item) throws(AgentError) -> Output
    ) throws(AgentError) -> [Output] {
        let work = Work<Output>(count: items.count)
        // Threads of their own, not concurrentPerform: that one runs as many at once as there are
        // cores, and these mostly wait.
        let done = DispatchGroup()
        for _ in 0..<min(width, items.count) {
            done.enter()
            Thread {
                while let index = work.claim() {
                    do throws(AgentError) {
                        work.store(.success(try body(items[index])), at: index)
                    } catch {
                        work.store(.failure(error), at: index)
                    }
                }
                done.leave()
            }.start()
        }
        done.wait()
        return try work.results().map { result throws(AgentError) in try result.get() }
    }

    /// The queue of indices the workers take from, and the slots they fill.
    private final class Work<Output: Sendable>: @unchecked Sendable {
        private let lock = NSLock()
        private var next = 0
        private var slots: [Result<Output, AgentError>?]

        init(count: Int) { slots = Array(repeating: nil, count: count) }

        func claim() -> Int? {
            lock.withLock {
                guard next < slots.count else { return nil }
                defer { next += 1 }
                return next
            }
        }

        func store(_ result: Result<Output, AgentError>, at index: Int) { lock.withLock { slots[index] = result } }

        func results() -> [Result<Output, AgentError>] { lock.withLock { slots.map { $0! } } }
    }
}
