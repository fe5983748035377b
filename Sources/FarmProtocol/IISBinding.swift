/// One binding of an IIS site, as `applicationHost.config` has it (protocol 1.2): the protocol and
/// `bindingInformation`, three colon-separated fields: an IP address or `*`, the port, and an
/// optional host name (IIS configuration reference, `<bindings>`/`<binding>`; the WMI provider's
/// BindingElement class).
public struct IISBinding: Codable, Sendable, Equatable {
    public var site: String
    public var `protocol`: String
    public var bindingInformation: String

    public init(site: String, protocol: String, bindingInformation: String) {
        self.site = site
        self.protocol = `protocol`
        self.bindingInformation = bindingInformation
    }

    /// The IIS configuration file, where the sites and their bindings are.
    public static let configurationPath = #"C:\Windows\System32\inetsrv\config\applicationHost.config"#

    private var fields: [Substring] {
        // An IPv6 address is bracketed ([::1]:80:host): split after it.
        if bindingInformation.hasPrefix("["), let close = bindingInformation.firstIndex(of: "]") {
            let rest = bindingInformation[bindingInformation.index(after: close)...].dropFirst()
            return [bindingInformation[...close]] + rest.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        }
        return bindingInformation.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
    }

    public var port: Int? { fields.count > 1 ? Int(fields[1]) : nil }
    /// The host name the binding answers for; nil when it answers every one.
    public var hostName: String? { fields.count > 2 && !fields[2].isEmpty ? String(fields[2]) : nil }
}
