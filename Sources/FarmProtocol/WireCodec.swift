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
        let args = object["args"]
        func required<T: Decodable>(_ type: T.Type) throws -> T {
            guard let value = try decodeArguments(T.self, args, op: op) else { throw AgentError(.invalidArguments, "\"args\" is missing") }
            return value
        }
        do {
            let operation: AgentOperation
            switch op {
            case "ping": operation = .ping(try decodeArguments(PingArguments.self, args, op: op) ?? PingArguments())
            case "inspect": operation = .inspect
            case "shutdown": operation = .shutdown
            case "service-status": operation = .serviceStatus
            case "stop-services": operation = .stopServices(try required(ServiceControlArguments.self))
            case "start-services": operation = .startServices(try required(ServiceControlArguments.self))
            case "stop-iis": operation = .stopIIS(try required(ServiceControlArguments.self))
            case "start-iis": operation = .startIIS(try required(ServiceControlArguments.self))
            case "backup-configuration": operation = .backupConfiguration(try required(BackupArguments.self))
            case "restore-configuration": operation = .restoreConfiguration(try required(BackupArguments.self))
            case "repoint-database": operation = .repointDatabase(try required(RepointArguments.self))
            case "run-configuration-tool": operation = .runConfigurationTool(try required(ConfigurationToolArguments.self))
            case "probe-tcp": operation = .probeTCP(try required(TCPProbeArguments.self))
            case "wait-for-readiness": operation = .waitForReadiness(try required(ReadinessArguments.self))
            case "begin-agent-update": operation = .beginAgentUpdate(try required(AgentUpdateBegin.self))
            case "agent-update-chunk": operation = .agentUpdateChunk(try required(AgentUpdateChunk.self))
            case "finish-agent-update": operation = .finishAgentUpdate
            case "rollback-agent-update": operation = .rollbackAgentUpdate
            case "agent-status": operation = .agentStatus
            case "probe-database": operation = .probeDatabase(try required(DatabaseProbeArguments.self))
            case "get-platform-info": operation = .getPlatformInfo(try decodeArguments(PlatformInfoArguments.self, args, op: op) ?? PlatformInfoArguments())
            default:
                throw RequestRejection(requestID: id, error: AgentError(.unknownOperation, "unknown operation \"\(op)\""))
            }
            return Request(id: id, operation: operation)
        } catch let rejection as RequestRejection {
            throw rejection
        } catch {
            throw RequestRejection(requestID: id, error: AgentError(.invalidArguments, "arguments of \"\(op)\": \(describe(error))"))
        }
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
