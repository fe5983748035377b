@testable import FarmAgent
import FarmProtocol
import Foundation
import XCTest

final class ParallelReadsTests: XCTestCase {
    func testResultsKeepTheInputOrder() throws {
        let items = Array(0..<50)
        let doubled = try ParallelReads.map(items) { item throws(AgentError) in
            Thread.sleep(forTimeInterval: Double(50 - item) / 10_000)
            return item * 2
        }
        XCTAssertEqual(doubled, items.map { $0 * 2 })
    }

    func testTheFirstFailureInInputOrderIsThrownAfterEveryReadEnded() {
        let finished = Counter()
        XCTAssertThrowsError(
            try ParallelReads.map(Array(0..<8)) { item throws(AgentError) -> Int in
                defer { finished.add() }
                if item == 6 { throw AgentError(.operationFailed, "six") }
                if item == 3 {
                    Thread.sleep(forTimeInterval: 0.05)
                    throw AgentError(.notFound, "three")
                }
                return item
            }
        ) { error in
            XCTAssertEqual((error as? AgentError)?.message, "three")
        }
        XCTAssertEqual(finished.value, 8)
    }

    func testReadsOverlapUpToTheWidth() throws {
        let running = Counter(), peak = Counter()
        _ = try ParallelReads.map(Array(0..<12)) { item throws(AgentError) -> Int in
            peak.raise(to: running.add())
            Thread.sleep(forTimeInterval: 0.02)
            running.subtract()
            return item
        }
        XCTAssertEqual(peak.value, ParallelReads.width)
    }
}

private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    var value: Int { lock.withLock { count } }
    @discardableResult func add() -> Int {
        lock.withLock {
            count += 1; return count
        }
    }
    func subtract() { lock.withLock { count -= 1 } }
    func raise(to candidate: Int) { lock.withLock { count = max(count, candidate) } }
}
