import FarmProtocol

/// Reads the server's install language and code pages with `reg.exe query` (the values Windows
/// keeps under `HKLM\SYSTEM\CurrentControlSet\Control\Nls`: `Language\InstallLanguage`,
/// `CodePage\OEMCP` and `CodePage\ACP`); what cannot be read stays nil.
enum HostLocaleReading {
    static func read(runner: any CommandRunner, environment: HostEnvironment) -> HostLocale {
        func values(_ key: String) -> [RegistryOutput.Value] {
            guard let result = try? runner.run(WindowsLocations.registryTool, ["query", key]), result.exitCode == 0 else { return [] }
            return (try? RegistryOutput.parse(result.output)) ?? []
        }
        func value(_ name: String, in list: [RegistryOutput.Value]) -> String? {
            list.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.data.trimmingCharacters(in: .whitespaces)
        }
        let language = values(HostLocale.languageKey)
        let codePages = values(HostLocale.codePageKey)
        return HostLocale(
            installLanguage: value("InstallLanguage", in: language), oemCodePage: value("OEMCP", in: codePages).flatMap { Int($0) },
            ansiCodePage: value("ACP", in: codePages).flatMap { Int($0) }, consoleCodePage: environment.consoleCodePage)
    }
}
