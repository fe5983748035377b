import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// Text as a Windows console program writes it to a pipe: in the OEM code page, not UTF-8.
/// Characters the code page lacks become their closest ASCII form or "?", as Windows' best-fit
/// conversion does (a French ’ prints as ').
enum OEMEncoding {
    static func encode(_ text: String, codePage: Int) -> Data {
        guard codePage != 65001 else { return Data(text.utf8) }
        let converter = iconv_open("CP\(codePage)//TRANSLIT", "UTF-8")
        guard converter != iconv_t(bitPattern: -1) else { return Data(text.utf8) }
        defer { iconv_close(converter) }
        var input = Array(text.utf8).map { CChar(bitPattern: $0) }
        var result = Data()
        var output = [CChar](repeating: 0, count: 4096)
        input.withUnsafeMutableBufferPointer { inBuffer in
            var inPointer: UnsafeMutablePointer<CChar>? = inBuffer.baseAddress
            var inLeft = inBuffer.count
            while inLeft > 0 {
                let (rc, failure, produced) = output.withUnsafeMutableBufferPointer { outBuffer -> (Int, Int32, [UInt8]) in
                    var outPointer: UnsafeMutablePointer<CChar>? = outBuffer.baseAddress
                    var outLeft = outBuffer.count
                    let rc = iconv(converter, &inPointer, &inLeft, &outPointer, &outLeft)
                    let failure = errno
                    return (rc, failure, outBuffer.prefix(outBuffer.count - outLeft).map { UInt8(bitPattern: $0) })
                }
                result.append(contentsOf: produced)
                guard rc == -1 else { continue }
                if failure == E2BIG { continue }
                guard failure == EILSEQ, let bad = inPointer else { break }
                // Not even transliterable: one "?" for the character, as Windows' default character.
                result.append(UInt8(ascii: "?"))
                let lead = UInt8(bitPattern: bad.pointee)
                let length = min(inLeft, lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1)
                inPointer = bad + length
                inLeft -= length
            }
        }
        return result
    }
}
