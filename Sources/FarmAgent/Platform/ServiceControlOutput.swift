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

    /// A `LABEL : value` line of an sc.exe block, by position. Labels are translated on non-English
    /// Windows (STATE is ÉTAT, ESTADO, STATUS…; BINARY_PATH_NAME is BINÄRPFAD_NAME, 二进制路径名), so they
    /// are never read: the field is found by its place in the block, which does not change.
    struct Field {
        var value: String
        /// The number the value starts with (state, start type, PID), if any.
        var number: Int? { Int(value.prefix { $0.isASCII && $0.isNumber }) }
    }

    /// The block's first `LABEL: value` line (the service name) and the labelled fields after it,
    /// in order. Lines without a label before their colon (a dependency's continuation) and lines
    /// without a colon (the "(STOPPABLE, …)" flags, sc's [SC] status line) are not fields.
    static func block(_ text: String) -> (name: String, fields: [Field])? {
        var name: String?
        var fields: [Field] = []
        for rawLine in text.split(whereSeparator: \.isNewline) {
            guard let colon = rawLine.firstIndex(where: { $0 == ":" || $0 == "\u{FF1A}" }) else { continue }
            let label = rawLine[..<colon].trimmingCharacters(in: .whitespaces)
            guard !label.isEmpty else { continue }
            let value = rawLine[rawLine.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if name == nil {
                name = value
            } else {
                fields.append(Field(value: value))
            }
        }
        guard let name else { return nil }
        return (name, fields)
    }

    /// `sc query`/`queryex` (and the block `sc stop`/`start` print): TYPE, STATE, WIN32_EXIT_CODE,
    /// SERVICE_EXIT_CODE, CHECKPOINT, WAIT_HINT, then PID and FLAGS for queryex.
    public static func parseStatus(_ text: String) throws(AgentError) -> Status {
        guard let (name, fields) = block(text), fields.count >= 6, let code = fields[1].number, let state = ServiceState(code: code) else {
            throw .unreadableOutput("sc.exe query", text)
        }
        return Status(name: name, state: state, processID: fields.count >= 7 ? fields[6].number : nil)
    }

    /// `sc qc`: TYPE, START_TYPE, ERROR_CONTROL, BINARY_PATH_NAME, LOAD_ORDER_GROUP, TAG,
    /// DISPLAY_NAME, DEPENDENCIES, SERVICE_START_NAME. Only call it for a run that exited 0.
    public static func parseConfiguration(_ text: String) throws(AgentError) -> Configuration {
        guard let (name, fields) = block(text), fields.count >= 8, let code = fields[1].number, let startType = ServiceStartType(code: code) else {
            throw .unreadableOutput("sc.exe qc", text)
        }
        return Configuration(name: name, startType: startType, displayName: fields[6].value)
    }

    /// The Win32 error of an sc.exe run that failed. On Windows sc.exe's exit code is the error
    /// itself; its first line also carries it ("[SC] OpenService FAILED 1060:", "[SC]
    /// EnumQueryServicesStatus:OpenService échec(s) 1060", "[SC] OpenService 失败 1060:"), which is
    /// what the simulator's 8-bit Linux exit statuses (1060 becomes 36) are read from. The number on
    /// that line is taken only when it agrees with the exit code.
    public static func parseFailure(_ text: String, exitCode: Int32) -> Failure? {
        guard exitCode != 0 else { return nil }
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var code: Int?
        if let header = lines.first {
            let numbers = header.split(whereSeparator: { !($0.isASCII && $0.isNumber) }).compactMap { Int($0) }
            code = numbers.last { Int32(truncatingIfNeeded: $0) == exitCode || ($0 & 0xff) == Int(exitCode & 0xff) }
        }
        if code == nil, exitCode > 255 { code = Int(exitCode) }
        guard let code else { return nil }
        return Failure(code: code, message: lines.dropFirst().first ?? "")
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

    /// The values of the key, in the order printed, from the output of a run that exited 0: the
    /// key line (`HKEY_…`), then `    NAME    TYPE    DATA` lines. The default value's name is
    /// translated ("(Default)", "(Standard)", "(par défaut)", "(默认)"), so a caller asks for it with
    /// `/ve` and takes the only value rather than looking for its name.
    public static func parse(_ text: String) throws(AgentError) -> [Value] {
        var values: [Value] = []
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
            values.append(Value(name: parts[0], type: parts[1], data: data))
        }
        guard sawKey else { throw .unreadableOutput("reg.exe query", text) }
        return values
    }
}
