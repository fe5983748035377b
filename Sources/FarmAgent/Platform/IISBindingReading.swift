import FarmProtocol
import Foundation

/// Reads every site's bindings from IIS's applicationHost.config (`<sites><site name=…>
/// <bindings><binding protocol=… bindingInformation=…/>`); nil when the file is not there or
/// cannot be read. Only the attributes named are read, never another part of the file.
enum IISBindingReading {
    static func read(files: ServerFiles) -> [IISBinding]? {
        guard files.exists(IISBinding.configurationPath), let data = try? files.read(IISBinding.configurationPath) else { return nil }
        return parse(String(decoding: data, as: UTF8.self))
    }

    static func parse(_ text: String) -> [IISBinding] {
        var bindings: [IISBinding] = []
        var rest = Substring(withoutComments(text))
        while let open = rest.range(of: "<site ") {
            let body = rest[open.upperBound...]
            let end = body.range(of: "</site>")?.lowerBound ?? body.endIndex
            let site = body[..<end]
            let name = attribute("name", in: tag(site))
            var cursor = site
            while let binding = cursor.range(of: "<binding ") {
                let element = tag(cursor[binding.upperBound...])
                if let kind = attribute("protocol", in: element), let information = attribute("bindingInformation", in: element) {
                    bindings.append(IISBinding(site: name ?? "", protocol: kind, bindingInformation: information))
                }
                cursor = cursor[binding.upperBound...]
            }
            rest = body[end...]
        }
        return bindings
    }

    private static func withoutComments(_ text: String) -> String {
        var result = "", rest = Substring(text)
        while let open = rest.range(of: "<!--") {
            result += rest[..<open.lowerBound]
            rest = rest[open.upperBound...]
            guard let close = rest.range(of: "-->") else { return result }
            rest = rest[close.upperBound...]
        }
        return result + rest
    }

    private static func tag(_ text: Substring) -> Substring { text[..<(text.firstIndex(of: ">") ?? text.endIndex)] }

    private static func attribute(_ name: String, in tag: Substring) -> String? {
        for quote in ["\"", "'"] {
            guard let start = tag.range(of: " \(name)=\(quote)") ?? (tag.hasPrefix("\(name)=\(quote)") ? tag.range(of: "\(name)=\(quote)") : nil),
                let end = tag[start.upperBound...].firstIndex(of: Character(quote))
            else { continue }
            return String(tag[start.upperBound..<end])
        }
        return nil
    }
}
