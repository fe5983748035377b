import Foundation
#if os(Windows)
    import WinSDK
#elseif canImport(Glibc)
    import Glibc
#endif

/// What a Windows console program printed, decoded from the code page it wrote in (the OEM code
/// page, not UTF-8: a German server's "ä" arrives as byte 0x84 in code page 850).
public enum ConsoleText {
    public static func decode(_ bytes: Data, codePage: Int) -> String {
        if bytes.isEmpty { return "" }
        if codePage == 65001 || bytes.allSatisfy({ $0 < 0x80 }) { return String(decoding: bytes, as: UTF8.self) }
        return convert(bytes, codePage: codePage) ?? String(decoding: bytes, as: UTF8.self)
    }

    #if os(Windows)
        private static func convert(_ bytes: Data, codePage: Int) -> String? {
            bytes.withUnsafeBytes { raw -> String? in
                guard let base = raw.baseAddress?.assumingMemoryBound(to: CChar.self) else { return nil }
                let count = MultiByteToWideChar(UINT(codePage), 0, base, Int32(raw.count), nil, 0)
                guard count > 0 else { return nil }
                var wide = [WCHAR](repeating: 0, count: Int(count))
                let written = MultiByteToWideChar(UINT(codePage), 0, base, Int32(raw.count), &wide, count)
                guard written > 0 else { return nil }
                return String(decoding: wide.prefix(Int(written)), as: UTF16.self)
            }
        }
    #else
        /// Inside the simulator (Linux): glibc's iconv knows the Windows code pages as CP437, CP850, CP936…
        private static func convert(_ bytes: Data, codePage: Int) -> String? {
            let converter = iconv_open("UTF-8", "CP\(codePage)")
            guard converter != iconv_t(bitPattern: -1) else { return nil }
            defer { iconv_close(converter) }
            var input = [CChar](bytes.map { CChar(bitPattern: $0) })
            var output = [CChar](repeating: 0, count: bytes.count * 4 + 16)
            let produced: Int? = input.withUnsafeMutableBufferPointer { inBuffer in
                output.withUnsafeMutableBufferPointer { outBuffer -> Int? in
                    var inPointer: UnsafeMutablePointer<CChar>? = inBuffer.baseAddress
                    var inLeft = inBuffer.count
                    var outPointer: UnsafeMutablePointer<CChar>? = outBuffer.baseAddress
                    var outLeft = outBuffer.count
                    guard iconv(converter, &inPointer, &inLeft, &outPointer, &outLeft) != -1 else { return nil }
                    return outBuffer.count - outLeft
                }
            }
            guard let produced else { return nil }
            return String(decoding: output.prefix(produced).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    #endif
}
