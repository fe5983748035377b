import FarmProtocol
import XCTest

final class LineFramerTests: XCTestCase {
    func testSplitsLinesAcrossChunksAndDropsCarriageReturns() {
        var framer = LineFramer(maxLineBytes: 100)
        XCTAssertEqual(framer.feed(Array("ab".utf8)), [])
        XCTAssertEqual(framer.feed(Array("c\r\nde\nf".utf8)), [.line(Array("abc".utf8)), .line(Array("de".utf8))])
        XCTAssertEqual(framer.finish(), .line(Array("f".utf8)))
        XCTAssertNil(framer.finish())
    }

    func testAnOversizeLineIsReportedOnceAndTheNextLineSurvives() {
        var framer = LineFramer(maxLineBytes: 8)
        var items = framer.feed(Array("0123456789".utf8))
        items += framer.feed(Array("abc\nok\n".utf8))
        XCTAssertEqual(items, [.oversize(byteCount: 13), .line(Array("ok".utf8))])
    }

    /// A controller holds the heartbeats of a server queued behind `--parallel` until its turn:
    /// each must cost its own few bytes, not the size of the longest answer seen before it.
    func testAShortLineAfterALongOneHoldsOnlyItsOwnBytes() {
        var framer = LineFramer(maxLineBytes: 100_000)
        let long = [UInt8](repeating: 0x61, count: 20_000) + Array("\n".utf8)
        _ = framer.feed(long)
        var held: [[UInt8]] = []
        for item in framer.feed(Array("ok\nhb\n".utf8)) {
            guard case let .line(bytes) = item else { return XCTFail("expected lines, got \(item)") }
            held.append(bytes)
        }
        XCTAssertEqual(held, [Array("ok".utf8), Array("hb".utf8)])
        for line in held { XCTAssertLessThan(line.capacity, 1024, "a 2-byte line holds a buffer of \(line.capacity) bytes") }
    }

    /// Contiguous bytes (what the controller's channel and the agent's stdin feed) are framed a
    /// stretch at a time; any other collection byte by byte. Both must give the same items for
    /// every chunking, at and around the limit, in both oversize modes.
    func testStretchesAndSingleBytesFrameAlike() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("ab\r\n".utf8) + [UInt8](repeating: 0x78, count: 4)
        for round in 0..<400 {
            let atLimit = round % 2 == 0
            let limit = Int.random(in: 1...12, using: &generator)
            let stream = (0..<Int.random(in: 0...80, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
            var cuts = Set((0..<Int.random(in: 0...6, using: &generator)).map { _ in Int.random(in: 0...stream.count, using: &generator) })
            cuts.insert(stream.count)
            var stretches = LineFramer(maxLineBytes: limit, reportsOversizeAtLimit: atLimit)
            var bytes = LineFramer(maxLineBytes: limit, reportsOversizeAtLimit: atLimit)
            var fromStretches: [LineFramer.Item] = [], fromBytes: [LineFramer.Item] = []
            var start = 0
            for cut in cuts.sorted() {
                let chunk = Array(stream[start..<cut])
                fromStretches += stretches.feed(chunk)
                fromBytes += bytes.feed(chunk.lazy.map { $0 })  // not contiguous: the byte loop
                start = cut
            }
            XCTAssertEqual(fromStretches, fromBytes, "stream \(stream), limit \(limit), at limit \(atLimit), cuts \(cuts.sorted())")
            XCTAssertEqual(stretches.finish(), bytes.finish())
        }
    }

    func testALineOfExactlyTheLimitPasses() {
        var framer = LineFramer(maxLineBytes: 4)
        XCTAssertEqual(framer.feed(Array("abcd\n".utf8)), [.line(Array("abcd".utf8))])
    }

    func testReportingAtTheLimitNeedsNoNewline() {
        var framer = LineFramer(maxLineBytes: 8, reportsOversizeAtLimit: true)
        XCTAssertEqual(framer.feed(Array("01234567".utf8)), [], "exactly the limit is still a line in the making")
        XCTAssertEqual(framer.feed(Array("8".utf8)), [.oversize(byteCount: 9)], "reported the moment the limit is passed")
        XCTAssertEqual(framer.feed([UInt8](repeating: 0x78, count: 10_000)), [], "the rest of the line is dropped, not reported again")
        XCTAssertEqual(framer.feed(Array("\nok\n".utf8)), [.line(Array("ok".utf8))])
        XCTAssertNil(framer.finish())
    }
}
