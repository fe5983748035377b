/// The JSON shapes of requests and agent messages. Kept apart from the domain types so the
/// wire format is in one place and the domain types stay plain enums.

struct RequestEnvelope: Encodable {
    let request: Request

    init(_ request: Request) { self.request = request }

    enum CodingKeys: String, CodingKey { case v, id, op, args, run }

    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(ProtocolVersion.current.major, forKey: .v)
        try container.encode(request.id, forKey: .id)
        try container.encode(request.operation.name, forKey: .op)
        if let arguments = request.operation.arguments {
            try arguments.encode(to: container.superEncoder(forKey: .args))
        }
        try container.encodeIfPresent(request.context, forKey: .run)
    }
}

struct AgentMessageEnvelope: Codable {
    let message: AgentMessage

    init(_ message: AgentMessage) { self.message = message }

    enum CodingKeys: String, CodingKey {
        case type, id, status, op, data, error, event
        case protocolVersion = "protocol"
        case agentVersion, host
    }

    init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        switch type {
        case "hello":
            message = .hello(try Hello(from: decoder))
        case "progress":
            message = .progress(
                requestID: try container.decode(String.self, forKey: .id),
                try container.decode(ProgressEvent.self, forKey: .event))
        case "result":
            let id = try container.decodeIfPresent(String.self, forKey: .id)
            let status = try container.decode(String.self, forKey: .status)
            switch status {
            case "ok":
                let op = try container.decode(String.self, forKey: .op)
                message = .result(requestID: id, .ok(try Self.decodeData(op: op, container)))
            case "error":
                message = .result(requestID: id, .failure(try container.decode(AgentError.self, forKey: .error)))
            default:
                throw DecodingError.dataCorruptedError(forKey: .status, in: container, debugDescription: "unknown status \"\(status)\"")
            }
        default:
            throw DecodingError.dataCorruptedError(forKey: .type, in: container, debugDescription: "unknown message type \"\(type)\"")
        }
    }

    private static func decodeData(op: String, _ container: KeyedDecodingContainer<CodingKeys>) throws -> ResultData {
        func data<T: Decodable>(_ type: T.Type) throws -> T { try container.decode(T.self, forKey: .data) }
        guard let kind = OperationName(rawValue: op) else {
            throw DecodingError.dataCorruptedError(forKey: .op, in: container, debugDescription: "unknown result for operation \"\(op)\"")
        }
        switch kind {
        case .ping: return .pong(try data(Pong.self))
        case .inspect: return .inspection(try data(ServerInspection.self))
        case .shutdown: return .shutdown
        case .serviceStatus, .stopServices, .startServices, .stopIIS, .startIIS: return .services(operation: kind, try data(ServiceReport.self))
        case .backupConfiguration, .restoreConfiguration: return .backup(operation: kind, try data(BackupRecord.self))
        case .repointDatabase: return .repoint(try data(RepointResult.self))
        case .runConfigurationTool: return .configurationTool(try data(ConfigurationToolRun.self))
        case .probeTCP: return .probe(try data(TCPProbeResult.self))
        case .waitForReadiness: return .readiness(try data(ReadinessReport.self))
        case .beginAgentUpdate, .agentUpdateChunk, .finishAgentUpdate, .rollbackAgentUpdate, .agentStatus:
            return .agentUpdate(operation: kind, try data(AgentUpdateStatus.self))
        case .listBackups: return .backupListing(try data(BackupListing.self))
        case .pruneBackups: return .backupPruned(try data(BackupPruneResult.self))
        case .probeDatabase: return .databaseProbe(try data(DatabaseProbeResult.self))
        case .getPlatformInfo: return .platformInfo(try data(PlatformInfoReport.self))
        case .checkLogins: return .loginCheck(try data(LoginCheckResult.self))
        }
    }

    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch message {
        case let .hello(hello):
            try container.encode("hello", forKey: .type)
            try hello.encode(to: encoder)
        case let .progress(id, event):
            try container.encode("progress", forKey: .type)
            try container.encode(id, forKey: .id)
            try container.encode(event, forKey: .event)
        case let .result(id, outcome):
            try container.encode("result", forKey: .type)
            try container.encodeIfPresent(id, forKey: .id)
            switch outcome {
            case let .ok(data):
                try container.encode("ok", forKey: .status)
                try container.encode(data.operationName, forKey: .op)
                if let payload = data.payload { try payload.encode(to: container.superEncoder(forKey: .data)) }
            case let .failure(error):
                try container.encode("error", forKey: .status)
                try container.encode(error, forKey: .error)
            }
        }
    }
}
