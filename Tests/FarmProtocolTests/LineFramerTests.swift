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

    func testALineOfExactlyTheLimitPasses() {
        var framer = LineFramer(maxLineBytes: 4)
        XCTAssertEqual(framer.feed(Array("abcd\n".utf8)), [.line(Array("abcd".utf8))])
    }
}
