import FarmProtocol
import XCTest

/// Published test vectors (FIPS 180-4 examples, RFC 2202).
final class DigestTests: XCTestCase {
    func testSHA256Vectors() {
        XCTAssertEqual(SHA256.hex(Array("".utf8)), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(
            SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(SHA256.hex([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testSHA256IncrementalEqualsOneShot() {
        let data = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var hasher = SHA256.Hasher()
        for chunk in stride(from: 0, to: data.count, by: 777) { hasher.update(data[chunk..<min(chunk + 777, data.count)]) }
        XCTAssertEqual(hasher.finalize(), SHA256.hash(data))
    }

    func testSHA1Vectors() {
        XCTAssertEqual(SHA1.hash(Array("abc".utf8)).hexString, "a9993e364706816aba3e25717850c26c9cd0d89d")
        XCTAssertEqual(SHA1.hash([]).hexString, "da39a3ee5e6b4b0d3255bfef95601890afd80709")
    }

    func testHMACSHA1Vectors() {
        XCTAssertEqual(
            HMACSHA1.authenticationCode(key: [UInt8](repeating: 0x0b, count: 20), message: Array("Hi There".utf8)).hexString,
            "b617318655057264e28bc0b6fb378c8ef146be00")
        XCTAssertEqual(
            HMACSHA1.authenticationCode(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8)).hexString,
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79")
        XCTAssertEqual(
            HMACSHA1.authenticationCode(
                key: [UInt8](repeating: 0xaa, count: 80),
                message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)
            ).hexString,
            "aa4ae5e15272d00e95705637ce8a3b55ed402112")
    }
}
