import FarmProtocol

/// Reads what `sc.exe` prints (query, queryex, qc, and its "[SC] … FAILED n:" errors).
/// The formats are pinned by the fixtures in Tests/FarmAgentTests/Fixtures/windows.
public enum ServiceControlOutput {
    public struct Status: Sendable, Equatable {
        public var name: String
        public var state: ServiceState
        public var processID: Int?

        public init(name: String, state: ServiceState, processID: Int?) {
            self.name = name
            self.state = state
            self.processID = processID
        }
    }

    public struct Configuration: Sendable, Equatable {
        public var name: String
        public var startType: ServiceStartType
        public var displayName: String?

        public init(name: String, startType: ServiceStartType, displayName: String?) {
            self.name = name
            self.startType = startType
            self.displayName = displayName
        }
    }

    public struct Failure: Sendable, Equatable {
        /// The Win32 error number, e.g. 1060.
        public var code: Int
        /// The system message that follows, e.g. "The specified service does not exist as an installed service."
        public var message: String

        public init(code: Int, message: String) {
            self.code = code
            self.message = message
        }
    }

    /// "KEY : value" lines, keys upper-case as sc prints them.
    static func fields(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("SERVICE_NAME:") {
                result["SERVICE_NAME"] = line.dropFirst("SERVICE_NAME:".count).trimmingCharacters(in: .whitespaces)
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty, key.allSatisfy({ $0.isUppercase || $0 == "_" || $0.isNumber }), result[key] == nil else { continue }
            result[key] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return result
    }

    private static func leadingNumber(_ value: String?) -> Int? {
        guard let value else { return nil }
        return Int(value.prefix { $0.isNumber })
    }

    public static func parseStatus(_ text: String) throws(AgentError) -> Status {
        let fields = fields(text)
        guard let name = fields["SERVICE_NAME"], let code = leadingNumber(fields["STATE"]), let state = ServiceState(code: code) else {
            throw .unreadableOutput("sc.exe query", text)
        }
        return Status(name: name, state: state, processID: leadingNumber(fields["PID"]))
    }

    public static func parseConfiguration(_ text: String) throws(AgentError) -> Configuration {
        let fields = fields(text)
        guard text.contains("QueryServiceConfig SUCCESS"), let name = fields["SERVICE_NAME"],
            let code = leadingNumber(fields["START_TYPE"]), let startType = ServiceStartType(code: code)
        else {
            throw .unreadableOutput("sc.exe qc", text)
        }
        return Configuration(name: name, startType: startType, displayName: fields["DISPLAY_NAME"])
    }

    /// The error sc reported, if the output is an "[SC] … FAILED n:" message.
    public static func parseFailure(_ text: String) -> Failure? {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard let header = lines.first(where: { $0.hasPrefix("[SC]") && $0.contains(" FAILED ") }),
            let range = header.range(of: " FAILED ")
        else { return nil }
        let number = header[range.upperBound...].prefix { $0.isNumber }
        guard let code = Int(number) else { return nil }
        let message = lines.drop { $0 != header }.dropFirst().first ?? ""
        return Failure(code: code, message: message)
    }
}

/// Reads what `reg.exe query KEY` prints: the key line, then "    NAME    TYPE    DATA" lines.
public enum RegistryOutput {
    public struct Value: Sendable, Equatable {
        public var name: String
        public var type: String
        public var data: String

        public init(name: String, type: String, data: String) {
            self.name = name
            self.type = type
            self.data = data
        }
    }

    public static let notFoundMessage = "ERROR: The system was unable to find the specified registry key or value."

    /// The values of the key, by name ("(Default)" for the default value). nil when the key is missing.
    public static func parse(_ text: String) throws(AgentError) -> [String: Value]? {
        if text.contains(notFoundMessage) { return nil }
        var values: [String: Value] = [:]
        var sawKey = false
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = String(rawLine)
            if line.hasPrefix("HKEY_") {
                sawKey = true
                continue
            }
            guard line.hasPrefix("    "), sawKey else { continue }
            let parts = line.trimmingCharacters(in: .whitespaces).components(separatedBy: "    ")
            guard parts.count >= 2, parts[1].hasPrefix("REG_") else { throw .unreadableOutput("reg.exe query", text) }
            let data = parts.count > 2 ? parts[2...].joined(separator: "    ") : ""
            values[parts[0]] = Value(name: parts[0], type: parts[1], data: data)
        }
        guard sawKey else { throw .unreadableOutput("reg.exe query", text) }
        return values
    }
}
