import Foundation

/// The Windows display language of a simulated server: it decides the labels and messages its
/// sc.exe, reg.exe, iisreset.exe and cmd.exe print, and the OEM code page they print them in
/// (Tests/Fixtures/windows/SOURCES.md says where each comes from).
public enum DisplayLanguage: String, Codable, CaseIterable, Sendable {
    case english = "en-US"
    case german = "de-DE"
    case french = "fr-FR"
    case spanish = "es-ES"
    case portuguese = "pt-BR"
    case chinese = "zh-CN"
    case japanese = "ja-JP"
    /// Windows' base pseudo-locale: every label and message rewritten, for testing.
    case pseudo = "qps-ploc"

    /// The OEM code page console programs write in (Microsoft's locale tables: LOCALE_IDEFAULTCODEPAGE).
    public var oemCodePage: Int {
        switch self {
        case .english: return 437
        case .german, .french, .spanish, .portuguese: return 850
        case .chinese: return 936
        // Shift-JIS (Microsoft: "OEM code page 932 is used for Japanese Kanji"; Code Page
        // Bitfields: "932 Japanese, Shift-JIS").
        case .japanese: return 932
        // No public source gives qps-ploc's OEM code page. Chosen: 852 (Latin 2), which holds
        // every look-alike letter the rewrite uses and is none of the other languages' pages, so
        // a decoder that assumed 437 or 850 would misread it (SOURCES.md, "The pseudo-locale").
        case .pseudo: return 852
        }
    }

    /// The language's LCID, as Windows writes it in `Nls\Language` `InstallLanguage` (four hex
    /// digits; [MS-LCID] "Windows Language Code Identifier Reference" 2.2: en-US 0x0409, de-DE
    /// 0x0407, fr-FR 0x040C, es-ES 0x0C0A, pt-BR 0x0416, zh-CN 0x0804, ja-JP 0x0411, qps-ploc 0x0501).
    public var lcid: String {
        switch self {
        case .english: return "0409"
        case .german: return "0407"
        case .french: return "040C"
        case .spanish: return "0C0A"
        case .portuguese: return "0416"
        case .chinese: return "0804"
        case .japanese: return "0411"
        case .pseudo: return "0501"
        }
    }

    /// Accepts the tag in any letter case (`de-de`, `DE-DE`).
    public init?(tag: String) {
        guard let match = Self.allCases.first(where: { $0.rawValue.caseInsensitiveCompare(tag) == .orderedSame }) else { return nil }
        self = match
    }
}
