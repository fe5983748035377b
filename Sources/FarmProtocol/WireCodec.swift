import Foundation

/// The wire format: newline-delimited JSON, UTF-8, one message per line, 1 MiB per line at most.
///
/// Shapes (pinned by the fixtures in Tests/FarmProtocolTests/Fixtures):
///
///     request   {"args":{…},"id":"7","op":"ping","v":1}
///     hello     {"agentVersion":"0.1.0","host":{…},"protocol":{"major":1,"minor":0},"type":"hello"}
///     progress  {"event":{"message":"…","step":"…"},"id":"7","type":"progress"}
///     result    {"data":{…},"id":"7","op":"ping","status":"ok","type":"result"}
///               {"error":{"code":"unknown_operation","message":"…"},"id":"7","status":"error","type":"result"}
public enum WireCodec {
    /// The longest line either side accepts, newline not counted.
    public static let maxLineBytes = 1 << 20

    /// Set in an encoder's userInfo to let `Secret` write its real value. Only the wire encoder sets it.
    public static let revealSecretsKey = CodingUserInfoKey(rawValue: "osfarm.revealSecrets")!

    /// Encoder for anything that is not the wire (journal, report, logs): secrets come out as `<redacted>`.
    public static func recordEncoder(pretty: Bool = false) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    private static func wireEncoder() -> JSONEncoder {
        let encoder = recordEncoder()
        encoder.userInfo[revealSecretsKey] = true
        return encoder
    }

    // MARK: Requests

    /// One request as a line, newline included.
    public static func encode(_ request: Request) throws -> [UInt8] {
        try line(wireEncoder().encode(RequestEnvelope(request)))
    }

    /// Parses a request line. A line that cannot be served throws `RequestRejection` with the id
    /// when one could be read, so the agent can still answer that request.
    public static func decodeRequest(_ line: [UInt8]) throws(RequestRejection) -> Request {
        let object: [String: Any]
        do {
            guard let parsed = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
                throw RequestRejection(requestID: nil, error: AgentError(.malformedRequest, "a request must be a JSON object"))
            }
            object = parsed
        } catch let rejection as RequestRejection {
            throw rejection
        } catch {
            throw RequestRejection(requestID: nil, error: AgentError(.malformedRequest, "the request line is not valid JSON"))
        }
        guard let id = object["id"] as? String, !id.isEmpty else {
            throw RequestRejection(requestID: nil, error: AgentError(.malformedRequest, "the request has no string \"id\""))
        }
        if let problem = RequestEchoBounds.idProblem(id) { throw RequestRejection(requestID: nil, error: problem) }
        guard let major = object["v"] as? Int else {
            throw RequestRejection(requestID: id, error: AgentError(.malformedRequest, "the request has no protocol version \"v\""))
        }
        guard major == ProtocolVersion.current.major else {
            throw RequestRejection(
                requestID: id,
                error: AgentError(.versionMismatch, "the request speaks protocol \(major).x; this agent speaks \(ProtocolVersion.current)"))
        }
        guard let op = object["op"] as? String else {
            throw RequestRejection(requestID: id, error: AgentError(.malformedRequest, "the request has no string \"op\""))
        }
        if let problem = RequestEchoBounds.operationProblem(op) { throw RequestRejection(requestID: id, error: problem) }
        let args = object["args"]
        func required<T: Decodable>(_ type: T.Type) throws -> T {
            guard let value = try decodeArguments(T.self, args, op: op) else { throw AgentError(.invalidArguments, "\"args\" is missing") }
            return value
        }
        var context: RequestContext?
        if let run = object["run"], !(run is NSNull) {
            do {
                context = try decodeArguments(RequestContext.self, run, op: op)
            } catch {
                throw RequestRejection(requestID: id, error: AgentError(.invalidArguments, "\"run\": \(describe(error))"))
            }
            if let problem = context?.problem { throw RequestRejection(requestID: id, error: AgentError(.invalidArguments, "\"run\": \(problem)")) }
        }
        guard let kind = OperationName(rawValue: op) else {
            throw RequestRejection(requestID: id, error: AgentError(.unknownOperation, "unknown operation \"\(op)\""))
        }
        do {
            let operation: AgentOperation
            switch kind {
            case .ping: operation = .ping(try decodeArguments(PingArguments.self, args, op: op) ?? PingArguments())
            case .inspect: operation = .inspect
            case .shutdown: operation = .shutdown
            case .serviceStatus: operation = .serviceStatus
            case .stopServices: operation = .stopServices(try required(ServiceControlArguments.self))
            case .startServices: operation = .startServices(try required(ServiceControlArguments.self))
            case .stopIIS: operation = .stopIIS(try required(ServiceControlArguments.self))
            case .startIIS: operation = .startIIS(try required(ServiceControlArguments.self))
            case .backupConfiguration: operation = .backupConfiguration(try required(BackupArguments.self))
            case .restoreConfiguration: operation = .restoreConfiguration(try required(BackupArguments.self))
            case .repointDatabase: operation = .repointDatabase(try required(RepointArguments.self))
            case .runConfigurationTool: operation = .runConfigurationTool(try required(ConfigurationToolArguments.self))
            case .probeTCP: operation = .probeTCP(try required(TCPProbeArguments.self))
            case .waitForReadiness: operation = .waitForReadiness(try required(ReadinessArguments.self))
            case .beginAgentUpdate: operation = .beginAgentUpdate(try required(AgentUpdateBegin.self))
            case .agentUpdateChunk: operation = .agentUpdateChunk(try required(AgentUpdateChunk.self))
            case .finishAgentUpdate: operation = .finishAgentUpdate
            case .rollbackAgentUpdate: operation = .rollbackAgentUpdate
            case .agentStatus: operation = .agentStatus
            case .listBackups: operation = .listBackups(try decodeArguments(BackupListArguments.self, args, op: op) ?? BackupListArguments())
            case .pruneBackups: operation = .pruneBackups(try required(BackupArguments.self))
            case .probeDatabase: operation = .probeDatabase(try required(DatabaseProbeArguments.self))
            case .getPlatformInfo: operation = .getPlatformInfo(try decodeArguments(PlatformInfoArguments.self, args, op: op) ?? PlatformInfoArguments())
            case .checkLogins: operation = .checkLogins(try required(LoginCheckArguments.self))
            }
            try operation.checkBounds()
            return Request(id: id, operation: operation, context: context)
        } catch let rejection as RequestRejection {
            throw rejection
        } catch {
            let detail = unfitNumber(in: args) ?? describe(error)
            throw RequestRejection(requestID: id, error: AgentError(.invalidArguments, "arguments of \"\(op)\": \(detail)"))
        }
    }

    /// Foundation's JSONDecoder reports a number that does not fit an integer field (1e300, 1.5)
    /// as "not valid JSON" without saying where: find it, and name the field and its range.
    private static func unfitNumber(in args: Any?) -> String? {
        guard let object = args as? [String: Any] else { return nil }
        for key in object.keys.sorted() {
            guard let bound = Bounds.wholeNumberFields.first(where: { $0.field == key }), let number = object[key] as? NSNumber,
                !(number is Bool), Int(exactly: number.doubleValue) == nil || number.stringValue.contains(".")
            else { continue }
            return "\(key) must be a whole number, \(bound.rangeDescription), not \(number)"
        }
        return nil
    }

    private static func decodeArguments<T: Decodable>(_ type: T.Type, _ args: Any?, op: String) throws -> T? {
        guard let args, !(args is NSNull) else { return nil }
        guard JSONSerialization.isValidJSONObject(args) else {
            throw AgentError(.invalidArguments, "\"args\" must be an object")
        }
        return try JSONDecoder().decode(T.self, from: JSONSerialization.data(withJSONObject: args))
    }

    // MARK: Agent messages

    /// One agent message as a line, newline included.
    public static func encode(_ message: AgentMessage) throws -> [UInt8] {
        try line(wireEncoder().encode(AgentMessageEnvelope(message)))
    }

    /// An agent message for a log or journal: the same JSON with every secret redacted.
    public static func encodeForRecord(_ message: AgentMessage) throws -> String {
        String(decoding: try recordEncoder().encode(AgentMessageEnvelope(message)), as: UTF8.self)
    }

    /// A request for a log or journal: the same JSON with every secret redacted.
    public static func encodeForRecord(_ request: Request) throws -> String {
        String(decoding: try recordEncoder().encode(RequestEnvelope(request)), as: UTF8.self)
    }

    public static func decodeAgentMessage(_ line: [UInt8]) throws(WireError) -> AgentMessage {
        guard line.count <= maxLineBytes else { throw .oversizeLine(byteCount: line.count) }
        do {
            return try JSONDecoder().decode(AgentMessageEnvelope.self, from: Data(line)).message
        } catch {
            throw .malformedMessage("\(describe(error)) in \(preview(line))")
        }
    }

    // MARK: Helpers

    private static func line(_ data: Data) throws -> [UInt8] {
        guard data.count <= maxLineBytes else { throw WireError.oversizeLine(byteCount: data.count) }
        return Array(data) + [UInt8(ascii: "\n")]
    }

    static func preview(_ line: [UInt8]) -> String {
        let text = String(decoding: line.prefix(120), as: UTF8.self)
        return line.count > 120 ? "\"\(text)…\"" : "\"\(text)\""
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case let DecodingError.keyNotFound(key, context):
            return "missing \(path(context.codingPath + [key]))"
        case let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context):
            return "wrong type at \(path(context.codingPath))"
        case let DecodingError.dataCorrupted(context):
            return context.codingPath.isEmpty ? "not valid JSON" : "bad value at \(path(context.codingPath)): \(context.debugDescription)"
        case let error as AgentError:
            return error.message
        case let error as WireError:
            return error.description
        default:
            return "\(error)"
        }
    }

    private static func path(_ keys: [CodingKey]) -> String {
        keys.isEmpty ? "the top level" : "\"" + keys.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".") + "\""
    }
}

/// A request line the agent cannot serve, with the id if one could be read.
public struct RequestRejection: Error, Sendable, Equatable {
    public var requestID: String?
    public var error: AgentError

    public init(requestID: String?, error: AgentError) {
        self.requestID = requestID
        self.error = error
    }
}

/// A problem with what came over the wire.
public enum WireError: Error, Sendable, Equatable, CustomStringConvertible {
    case oversizeLine(byteCount: Int)
    case malformedMessage(String)

    public var description: String {
        switch self {
        case let .oversizeLine(count):
            return "a protocol line of \(count) bytes is over the \(WireCodec.maxLineBytes)-byte limit"
        case let .malformedMessage(detail):
            return "malformed protocol message: \(detail)"
        }
    }
}
