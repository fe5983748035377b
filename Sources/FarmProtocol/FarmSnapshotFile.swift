import Foundation

/// Reads and writes a snapshot file. Reading is strict where the wire is tolerant: a replica built
/// from a snapshot this build only half understands would not be the farm, so a newer format, an
/// agent newer than this build, or a field this build does not know is an error naming the file
/// and the field.
public enum FarmSnapshotFile {
    public enum Problem: Error, Equatable, Sendable, CustomStringConvertible {
        case unreadable(path: String, reason: String)
        case notASnapshot(path: String)
        case newerFormat(path: String, format: Int)
        case newerAgent(path: String, field: String, version: ProtocolVersion)
        case unknownField(path: String, field: String)
        case invalid(path: String, field: String, reason: String)

        public var description: String {
            switch self {
            case let .unreadable(path, reason): return "\(path): cannot read the snapshot: \(reason)"
            case let .notASnapshot(path): return "\(path): not an osfarm farm snapshot (no \"kind\": \"\(FarmSnapshot.kindName)\")"
            case let .newerFormat(path, format):
                return
                    "\(path): snapshot format \(format) is newer than this osfarm reads (\(FarmSnapshot.currentFormat)); use the osfarm that wrote it (\(OsfarmVersion.current) here)"
            case let .newerAgent(path, field, version):
                return
                    "\(path): \(field) is protocol \(version), newer than this osfarm knows (\(ProtocolVersion.current)); use an osfarm at least as new as its agents"
            case let .unknownField(path, field):
                return "\(path): unknown field \(field): the snapshot was written by a newer osfarm; use that one"
            case let .invalid(path, field, reason): return "\(path): \(field): \(reason)"
            }
        }
    }

    public static func write(_ snapshot: FarmSnapshot, to path: String) throws {
        let encoder = WireCodec.recordEncoder(pretty: true)
        encoder.dateEncodingStrategy = .iso8601
        try encoder.encode(snapshot).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    public static func read(path: String) throws(Problem) -> FarmSnapshot {
        guard let data = FileManager.default.contents(atPath: path) else { throw .unreadable(path: path, reason: "no such file, or not readable") }
        return try decode(data, path: path)
    }

    public static func decode(_ data: Data, path: String) throws(Problem) -> FarmSnapshot {
        guard let tree = try? JSONSerialization.jsonObject(with: data), let top = tree as? [String: Any] else {
            throw .unreadable(path: path, reason: "not a JSON object")
        }
        guard top["kind"] as? String == FarmSnapshot.kindName else { throw .notASnapshot(path: path) }
        guard let format = top["format"] as? Int else { throw .invalid(path: path, field: "format", reason: "missing or not a number") }
        if format > FarmSnapshot.currentFormat { throw .newerFormat(path: path, format: format) }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let snapshot: FarmSnapshot
        do {
            snapshot = try decoder.decode(FarmSnapshot.self, from: data)
        } catch let error as DecodingError {
            throw .invalid(path: path, field: field(of: error), reason: reason(of: error))
        } catch {
            throw .unreadable(path: path, reason: "\(error)")
        }
        for (index, server) in snapshot.servers.enumerated() {
            if let version = server.protocolVersion,
                version.major > ProtocolVersion.current.major
                    || (version.major == ProtocolVersion.current.major && version.minor > ProtocolVersion.current.minor)
            {
                throw .newerAgent(path: path, field: "servers[\(index)].protocolVersion (\(server.name))", version: version)
            }
        }
        // Every field the file has must be one this build decoded: encode what was read and look
        // for what is missing from it (a null is the same as no field).
        let encoder = WireCodec.recordEncoder()
        encoder.dateEncodingStrategy = .iso8601
        if let again = try? encoder.encode(snapshot), let known = try? JSONSerialization.jsonObject(with: again),
            let unknown = firstUnknown(tree, known: known, at: "")
        {
            throw .unknownField(path: path, field: unknown)
        }
        return snapshot
    }

    /// The path of the first key in `value` that `known` lacks.
    static func firstUnknown(_ value: Any, known: Any, at path: String) -> String? {
        if let object = value as? [String: Any] {
            let knownObject = known as? [String: Any] ?? [:]
            for key in object.keys.sorted() where !(object[key] is NSNull) {
                let field = path.isEmpty ? key : path + "." + key
                guard let inner = knownObject[key] else { return field }
                if let found = firstUnknown(object[key]!, known: inner, at: field) { return found }
            }
        } else if let array = value as? [Any], let knownArray = known as? [Any] {
            for (index, element) in array.enumerated() where index < knownArray.count {
                if let found = firstUnknown(element, known: knownArray[index], at: "\(path)[\(index)]") { return found }
            }
        }
        return nil
    }

    private static func field(of error: DecodingError) -> String {
        let path: [CodingKey]
        switch error {
        case let .typeMismatch(_, context), let .valueNotFound(_, context), let .dataCorrupted(context): path = context.codingPath
        case let .keyNotFound(key, context): path = context.codingPath + [key]
        @unknown default: path = []
        }
        var text = ""
        for key in path {
            if let index = key.intValue { text += "[\(index)]" } else { text += (text.isEmpty ? "" : ".") + key.stringValue }
        }
        return text.isEmpty ? "the document" : text
    }

    private static func reason(of error: DecodingError) -> String {
        switch error {
        case .keyNotFound: return "missing"
        case let .typeMismatch(type, _): return "not a \(type)"
        case .valueNotFound: return "missing a value"
        case let .dataCorrupted(context): return context.debugDescription
        @unknown default: return "\(error)"
        }
    }
}
