import FarmProtocol
import Foundation

// state.json is read field by field here, not with JSONDecoder. Every emulated sc.exe or reg.exe
// query is a process start that reads the file, and JSONDecoder spent half of such a start
// building the generic metadata of its containers (a scan of every protocol conformance in the
// binary per nested type). It is written by hand too (ServerStateEncoding.swift). ServerState
// stays Codable, and the reader takes every key JSONEncoder would write and refuses one it does
// not know (a field added to ServerState but not here fails at once, not silently);
// StateFileTests holds the hand reader and writer and JSONDecoder and JSONEncoder to one value.

extension ServerState {
    init(stateJSON data: [UInt8]) throws {
        let root = try JSONFields(try PlainJSON(parsing: data), path: "state")
        try root.onlyKeys([
            "name", "role", "address", "profile", "services", "registry", "faults", "lastConfigurationTool", "nextProcessID",
            "language", "measuredTimings",
        ])
        var registry: [String: [RegistryValue]] = [:]
        let keys = try root.object("registry")
        for (key, values) in keys.members {
            registry[key] = try JSONFields.array(values, path: keys.path + "." + key).map { try RegistryValue(try JSONFields($0, path: keys.path + "." + key)) }
        }
        self.init(
            name: try root.string("name"), role: try root.enumeration("role"), address: try root.string("address"),
            profile: try root.enumeration("profile"), services: try root.array("services").map(SimulatedService.init),
            registry: registry, faults: try InjectedFaults(try root.object("faults")),
            lastConfigurationTool: try root.optionalObject("lastConfigurationTool").map(ConfigurationToolRecord.init),
            nextProcessID: try root.int("nextProcessID"), language: try root.enumeration("language"),
            measuredTimings: try root.optionalObject("measuredTimings").map(SimulatedTimings.init))
    }
}

extension ServerState.RegistryValue {
    fileprivate init(_ fields: JSONFields) throws {
        try fields.onlyKeys(["name", "type", "data"])
        self.init(name: try fields.string("name"), type: try fields.string("type"), data: try fields.string("data"))
    }
}

extension SimulatedService {
    fileprivate init(_ fields: JSONFields) throws {
        try fields.onlyKeys(["name", "displayName", "type", "binaryPath", "startType", "state", "processID", "pendingUntil", "runningSince", "initialised"])
        self.init(
            name: try fields.string("name"), displayName: try fields.string("displayName"), type: try fields.int("type"),
            binaryPath: try fields.string("binaryPath"), startType: try fields.enumeration("startType"), state: try fields.enumeration("state"),
            processID: try fields.optionalInt("processID"), pendingUntil: try fields.optionalDouble("pendingUntil"),
            runningSince: try fields.optionalDouble("runningSince"), initialised: try fields.bool("initialised"))
    }
}

extension InjectedFaults {
    fileprivate init(_ fields: JSONFields) throws {
        try fields.onlyKeys([
            "stuckStopping", "failingStart", "configurationToolFailure", "slowdown", "configurationToolOrphanSeconds", "iisHostBinding",
            "forceHTTPS", "httpsBinding", "sessionNetworkCredentials",
        ])
        self.init()
        stuckStopping = try fields.strings("stuckStopping")
        failingStart = try fields.strings("failingStart")
        configurationToolFailure = try fields.optionalString("configurationToolFailure")
        slowdown = try fields.double("slowdown")
        configurationToolOrphanSeconds = try fields.optionalDouble("configurationToolOrphanSeconds")
        iisHostBinding = try fields.optionalString("iisHostBinding")
        forceHTTPS = try fields.bool("forceHTTPS")
        httpsBinding = try fields.optionalObject("httpsBinding").map(SimulatedHTTPSBinding.init)
        sessionNetworkCredentials = try fields.optionalBool("sessionNetworkCredentials")
    }
}

extension SimulatedHTTPSBinding {
    fileprivate init(_ fields: JSONFields) throws {
        try fields.onlyKeys(["port", "certificate"])
        self.init(port: try fields.int("port"), certificate: try SimulatedCertificate(try fields.object("certificate")))
    }
}

extension SimulatedCertificate {
    fileprivate init(_ fields: JSONFields) throws {
        try fields.onlyKeys(["subject", "thumbprint", "dnsNames", "inMachineStore", "trusted"])
        self.init(
            subject: try fields.string("subject"), thumbprint: try fields.string("thumbprint"), dnsNames: try fields.strings("dnsNames"),
            inMachineStore: try fields.bool("inMachineStore"), trusted: try fields.bool("trusted"))
    }
}

extension ConfigurationToolRecord {
    fileprivate init(_ fields: JSONFields) throws {
        try fields.onlyKeys(["switches", "exitCode", "message", "finishedAt"])
        guard let exitCode = Int32(exactly: try fields.int("exitCode")) else { throw fields.error("exitCode", "is out of range") }
        self.init(
            switches: try fields.strings("switches"), exitCode: exitCode, message: try fields.string("message"), finishedAt: try fields.double("finishedAt"))
    }
}

extension SimulatedTimings {
    fileprivate init(_ fields: JSONFields) throws {
        try fields.onlyKeys(["stopSeconds", "startSeconds", "initialisationSeconds", "iisSeconds", "configurationToolSeconds"])
        self.init(
            stopSeconds: try fields.double("stopSeconds"), startSeconds: try fields.double("startSeconds"),
            initialisationSeconds: try fields.double("initialisationSeconds"), iisSeconds: try fields.double("iisSeconds"),
            configurationToolSeconds: try fields.double("configurationToolSeconds"))
    }
}

/// One JSON object of state.json, read by key; errors name the key's path in the file.
private struct JSONFields {
    let members: [(name: String, value: PlainJSON)]
    let path: String

    init(_ value: PlainJSON, path: String) throws {
        guard case let .object(members) = value else { throw StateFieldError(path: path, reason: "is not an object") }
        self.members = members
        self.path = path
    }

    static func array(_ value: PlainJSON, path: String) throws -> [PlainJSON] {
        guard case let .array(array) = value else { throw StateFieldError(path: path, reason: "is not an array") }
        return array
    }

    func error(_ key: String, _ reason: String) -> StateFieldError { StateFieldError(path: path + "." + key, reason: reason) }

    func onlyKeys(_ known: [String]) throws {
        if let unknown = members.first(where: { !known.contains($0.name) }) { throw error(unknown.name, "is not a key this simulator knows") }
    }

    /// The member's value (the last one when a name is written twice, as JSONDecoder takes it); nil when absent or null.
    private func present(_ key: String) -> PlainJSON? {
        guard let value = members.last(where: { $0.name == key })?.value else { return nil }
        if case .null = value { return nil }
        return value
    }

    private func required<T>(_ key: String, _ read: (PlainJSON) -> T?, _ what: String) throws -> T {
        guard let value = present(key) else { throw error(key, "is missing") }
        guard let typed = read(value) else { throw error(key, "is not \(what)") }
        return typed
    }

    private func optional<T>(_ key: String, _ read: (PlainJSON) -> T?, _ what: String) throws -> T? {
        guard let value = present(key) else { return nil }
        guard let typed = read(value) else { throw error(key, "is not \(what)") }
        return typed
    }

    private static func number(_ value: PlainJSON) -> Double? {
        guard case let .number(number) = value else { return nil }
        return number
    }
    private static func integer(_ value: PlainJSON) -> Int? { number(value).flatMap { Int(exactly: $0) } }
    private static func text(_ value: PlainJSON) -> String? {
        guard case let .string(text) = value else { return nil }
        return text
    }
    private static func truth(_ value: PlainJSON) -> Bool? {
        guard case let .bool(truth) = value else { return nil }
        return truth
    }
    private static func texts(_ value: PlainJSON) -> [String]? {
        guard case let .array(elements) = value else { return nil }
        let texts = elements.compactMap(text)
        return texts.count == elements.count ? texts : nil
    }

    func string(_ key: String) throws -> String { try required(key, Self.text, "a string") }
    func optionalString(_ key: String) throws -> String? { try optional(key, Self.text, "a string") }
    func double(_ key: String) throws -> Double { try required(key, Self.number, "a number") }
    func optionalDouble(_ key: String) throws -> Double? { try optional(key, Self.number, "a number") }
    func int(_ key: String) throws -> Int { try required(key, Self.integer, "an integer") }
    func optionalInt(_ key: String) throws -> Int? { try optional(key, Self.integer, "an integer") }
    func bool(_ key: String) throws -> Bool { try required(key, Self.truth, "true or false") }
    func optionalBool(_ key: String) throws -> Bool? { try optional(key, Self.truth, "true or false") }
    func strings(_ key: String) throws -> [String] { try required(key, Self.texts, "an array of strings") }
    func array(_ key: String) throws -> [JSONFields] {
        let path = self.path + "." + key
        return try Self.array(try required(key, { $0 }, "an array"), path: path).enumerated().map { try JSONFields($1, path: "\(path)[\($0)]") }
    }
    func object(_ key: String) throws -> JSONFields { try JSONFields(try required(key, { $0 }, "an object"), path: path + "." + key) }
    func optionalObject(_ key: String) throws -> JSONFields? {
        try present(key).map { try JSONFields($0, path: path + "." + key) }
    }
    func enumeration<T: RawRepresentable>(_ key: String) throws -> T where T.RawValue == String {
        let text = try string(key)
        guard let value = T(rawValue: text) else { throw error(key, "is not a known value (\(text))") }
        return value
    }
}

/// A field of state.json that is missing, of the wrong type or unknown, by its path ("state.services[2].state").
struct StateFieldError: Error, CustomStringConvertible {
    let path: String
    let reason: String
    var description: String { "\(path) \(reason)" }
}
