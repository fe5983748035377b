/// The language and code pages of a Windows server, as `inspect` reads them from the registry:
/// `HKLM\SYSTEM\CurrentControlSet\Control\Nls\Language` `InstallLanguage` (the language Windows was
/// installed in, an LCID in hex such as 0409) and `Nls\CodePage` `OEMCP`/`ACP` (the OEM and ANSI
/// code pages console programs and GUI programs use), plus the code page the agent's console
/// decodes program output with. Protocol 1.2.
public struct HostLocale: Codable, Sendable, Equatable {
    /// `InstallLanguage` as written (four hex digits); nil when the key could not be read.
    public var installLanguage: String?
    /// The same as a language tag (en-US, de-DE, …) when it is one osfarm knows; nil otherwise.
    public var language: String?
    /// `OEMCP`: the code page sc.exe, reg.exe and iisreset.exe write in.
    public var oemCodePage: Int?
    /// `ACP`, the ANSI code page.
    public var ansiCodePage: Int?
    /// The code page the agent decodes console output with (its console's, else OEMCP).
    public var consoleCodePage: Int

    public init(installLanguage: String?, oemCodePage: Int?, ansiCodePage: Int? = nil, consoleCodePage: Int) {
        self.installLanguage = installLanguage
        self.language = installLanguage.flatMap { Self.tag(lcid: $0) }
        self.oemCodePage = oemCodePage
        self.ansiCodePage = ansiCodePage
        self.consoleCodePage = consoleCodePage
    }

    public static let languageKey = #"HKLM\SYSTEM\CurrentControlSet\Control\Nls\Language"#
    public static let codePageKey = #"HKLM\SYSTEM\CurrentControlSet\Control\Nls\CodePage"#

    /// LCIDs and their language tags ([MS-LCID] "Windows Language Code Identifier Reference",
    /// section 2.2: 0x0409 en-US, 0x0407 de-DE, 0x040C fr-FR, 0x0C0A es-ES (modern sort), 0x0416
    /// pt-BR, 0x0804 zh-CN, 0x0411 ja-JP, 0x0501 qps-ploc).
    public static let lcids: [(lcid: Int, tag: String)] = [
        (0x0409, "en-US"), (0x0407, "de-DE"), (0x040C, "fr-FR"), (0x0C0A, "es-ES"), (0x040A, "es-ES"), (0x0416, "pt-BR"),
        (0x0804, "zh-CN"), (0x0411, "ja-JP"), (0x0501, "qps-ploc"),
    ]

    /// The tag for an LCID written in hex (`0409`, `0x0409`); nil when unknown.
    public static func tag(lcid text: String) -> String? {
        let digits = text.lowercased().hasPrefix("0x") ? String(text.dropFirst(2)) : text
        guard let value = Int(digits.trimmingCharacters(in: .whitespaces), radix: 16) else { return nil }
        return lcids.first { $0.lcid == value }?.tag
    }
}
