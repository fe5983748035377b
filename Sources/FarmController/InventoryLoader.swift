import FarmProtocol
import Foundation
import Yams

/// A problem with the inventory, naming the file, the line and the field.
public struct InventoryError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var line: Int?
    public var field: String?
    public var problem: String

    public var description: String {
        var location = path
        if let line { location += ":\(line)" }
        if let field { return "\(location): \(field): \(problem)" }
        return "\(location): \(problem)"
    }
}

/// Reads the YAML inventory:
///
///     defaults:                 # optional; any server field but name and host, plus known_hosts
///       user: Administrator
///       port: 22
///       identity: ~/.ssh/osfarm_ed25519      # "ssh-agent" to use the agent
///       known_hosts: ~/.ssh/known_hosts
///       agent: '"C:\Program Files\osfarm\osfarm-agent.exe" serve'
///     servers:
///       - name: dc1
///         host: 10.0.0.10
///         role: deployment-controller        # or front-end
///         tags: [prod]
///         hooks:                             # run on the jump host; argv lists, never shell strings
///           before-stop: [./hooks/haproxy-drain, disable]
///           after-verify: [./hooks/haproxy-drain, enable]
///           on-failure: [/usr/local/bin/page-oncall]
///           timeout: 30                      # seconds each hook may take (default 60)
///           rejoin: after-settings           # when after-verify runs: once /ApplySettingsFactory
///                                            # ran (default), or after-verify: once verified
///         service-center:                    # optional: how the agent calls Service Center here
///           host: osfarm.example.com         # the Host header an IIS binding needs (default 127.0.0.1)
///           port: 8080                       # default: server.hsconf's ApplicationServerPort
///
/// Unknown fields are errors (a typo must not silently fall back to a default). Relative paths are
/// taken from the inventory's folder; `~` is the home folder.
public enum InventoryLoader {
    static let serverFields: Set<String> = ["name", "host", "port", "user", "identity", "role", "tags", "agent", "hooks", "service-center"]
    static let defaultFields: Set<String> = ["port", "user", "identity", "role", "tags", "agent", "known_hosts", "hooks", "service-center"]
    static let hookFields = Set(HookEvent.allCases.map(\.rawValue) + ["timeout", "pass-env", "rejoin"])
    public static let defaultAgentCommand = "osfarm-agent serve"

    /// The largest inventory read (a farm of a thousand servers is about 100 KiB).
    public static let maxBytes = 4 << 20

    /// Throws `InventoryError`.
    public static func load(path: String) throws -> Inventory {
        if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber, size.int64Value > Int64(maxBytes) {
            throw InventoryError(path: path, line: nil, field: nil, problem: "is \(size) bytes; an inventory is at most \(maxBytes) bytes")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InventoryError(
                path: path, line: nil, field: nil,
                problem: FileManager.default.fileExists(atPath: path) ? "cannot be read" : "no such file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw InventoryError(path: path, line: nil, field: nil, problem: "is not UTF-8 text")
        }
        return try parse(text, path: path)
    }

    /// Throws `InventoryError`.
    public static func parse(_ text: String, path: String) throws -> Inventory {
        let reader = NodeReader(path: path)
        guard text.utf8.count <= maxBytes else {
            throw InventoryError(path: path, line: nil, field: nil, problem: "is \(text.utf8.count) bytes; an inventory is at most \(maxBytes) bytes")
        }
        // Before Yams composes the text: an alias can stand for an exponential amount of data, and
        // Yams takes exponential time over one used in a mapping key.
        do {
            try YAMLAliasExpansion.check(text)
        } catch let refusal as YAMLAliasExpansion.Refusal {
            throw InventoryError(path: path, line: refusal.line, field: nil, problem: refusal.problem)
        } catch {
            throw reader.yamlError(error)
        }
        let root: Node
        do {
            guard let composed = try Yams.compose(yaml: text) else {
                throw InventoryError(path: path, line: nil, field: nil, problem: "is empty; it needs a \"servers\" list")
            }
            root = composed
        } catch let error as InventoryError {
            throw error
        } catch {
            throw reader.yamlError(error)
        }
        let top = try reader.mapping(root, field: "the document", allowed: ["defaults", "servers", "replica"])
        // A replica (osfarm-sim farm up --from) names the snapshot it was built from; every one of
        // its servers must then be a loopback address, so it can never reach a real farm.
        let replica = try top["replica"].map { node -> String in
            let fields = try reader.mapping(node, field: "replica", allowed: ["snapshot"])
            guard let snapshot = fields["snapshot"] else {
                throw InventoryError(path: path, line: node.mark?.line, field: "replica.snapshot", problem: "missing; the snapshot the replica was built from")
            }
            return try reader.string(snapshot, field: "replica.snapshot")
        }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let defaults = try top["defaults"].map { try reader.mapping($0, field: "defaults", allowed: defaultFields) } ?? [:]
        let knownHosts =
            try defaults["known_hosts"].map { try reader.path($0, field: "defaults.known_hosts", folder: folder) }
            ?? NSString(string: "~/.ssh/known_hosts").expandingTildeInPath

        guard let serversNode = top["servers"] else {
            throw InventoryError(path: path, line: root.mark?.line, field: "servers", problem: "missing; list at least one server")
        }
        guard case let .sequence(list) = serversNode, !list.isEmpty else {
            throw InventoryError(path: path, line: serversNode.mark?.line, field: "servers", problem: "must be a non-empty list of servers")
        }
        var servers: [ServerEntry] = []
        var seen: [String: Int] = [:]
        var seenAddresses: [String: String] = [:]
        for (index, node) in list.enumerated() {
            let prefix = "servers[\(index)]"
            let fields = try reader.mapping(node, field: prefix, allowed: serverFields)
            let line = node.mark?.line ?? 0
            func value(_ key: String) -> (node: Node, field: String)? {
                if let own = fields[key] { return (own, "\(prefix).\(key)") }
                if let inherited = defaults[key] { return (inherited, "defaults.\(key)") }
                return nil
            }
            guard let nameNode = fields["name"] else { throw InventoryError(path: path, line: line, field: "\(prefix).name", problem: "missing") }
            let name = try reader.string(nameNode, field: "\(prefix).name")
            guard name.range(of: #"^[A-Za-z0-9][A-Za-z0-9._-]*$"#, options: .regularExpression) != nil else {
                throw InventoryError(
                    path: path, line: nameNode.mark?.line, field: "\(prefix).name",
                    problem: "\"\(name)\" is not a valid name (letters, digits, '.', '_', '-')")
            }
            if let first = seen[name] {
                throw InventoryError(path: path, line: nameNode.mark?.line, field: "\(prefix).name", problem: "\"\(name)\" is already used on line \(first)")
            }
            seen[name] = nameNode.mark?.line ?? line
            guard let hostNode = fields["host"] else { throw InventoryError(path: path, line: line, field: "\(prefix).host", problem: "missing") }
            let host = try reader.string(hostNode, field: "\(prefix).host")
            guard !host.isEmpty, !host.contains(" ") else {
                throw InventoryError(path: path, line: hostNode.mark?.line, field: "\(prefix).host", problem: "\"\(host)\" is not a host name or address")
            }
            if replica != nil, !Self.isLoopback(host) {
                throw InventoryError(
                    path: path, line: hostNode.mark?.line, field: "\(prefix).host",
                    problem:
                        "\(host) is not a loopback address, and this inventory is a replica (replica.snapshot): a replica's servers are 127.x.y.z or ::1 only")
            }
            let port = try value("port").map { try reader.port($0.node, field: $0.field) } ?? 22
            if let other = seenAddresses["\(host):\(port)"] {
                throw InventoryError(path: path, line: hostNode.mark?.line, field: "\(prefix).host", problem: "\(host):\(port) is also server \(other)")
            }
            seenAddresses["\(host):\(port)"] = name
            guard let roleValue = value("role") else {
                throw InventoryError(path: path, line: line, field: "\(prefix).role", problem: "missing; deployment-controller or front-end")
            }
            let roleText = try reader.string(roleValue.node, field: roleValue.field)
            guard let role = ServerRole(rawValue: roleText) else {
                throw InventoryError(
                    path: path, line: roleValue.node.mark?.line, field: roleValue.field,
                    problem: "\"\(roleText)\" is not a role; use deployment-controller or front-end")
            }
            let user = try value("user").map { try reader.string($0.node, field: $0.field) } ?? "Administrator"
            var identity: String? = nil
            if let identityValue = value("identity") {
                let text = try reader.string(identityValue.node, field: identityValue.field)
                identity = text == "ssh-agent" ? nil : try reader.path(identityValue.node, field: identityValue.field, folder: folder)
            }
            let tags = try value("tags").map { try reader.stringList($0.node, field: $0.field) } ?? []
            let agent = try value("agent").map { try reader.string($0.node, field: $0.field) } ?? defaultAgentCommand
            guard !agent.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw InventoryError(path: path, line: value("agent")?.node.mark?.line, field: value("agent")?.field, problem: "must not be empty")
            }
            let hooks = try reader.hooks(defaults: defaults["hooks"], own: fields["hooks"], prefix: prefix, folder: folder)
            let serviceCenter = try value("service-center").map { try reader.serviceCenter($0.node, field: $0.field) }
            servers.append(
                ServerEntry(
                    name: name, host: host, port: port, user: user, identity: identity, role: role, tags: tags,
                    agentCommand: agent, line: line, hooks: hooks, serviceCenter: serviceCenter))
        }
        var inventory = Inventory(path: path, knownHostsPath: knownHosts, servers: servers)
        inventory.replicaOf = replica
        return inventory
    }

    /// A literal loopback address: 127.0.0.0/8 or ::1 (a name is not: it could resolve anywhere).
    public static func isLoopback(_ host: String) -> Bool {
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return UInt32(bigEndian: v4.s_addr) >> 24 == 127 }
        var v6 = in6_addr()
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        guard inet_pton(AF_INET6, bare, &v6) == 1 else { return false }
        return withUnsafeBytes(of: &v6) { bytes in bytes.prefix(15).allSatisfy { $0 == 0 } && bytes[15] == 1 }
    }
}

/// Typed reads of YAML nodes that fail with the file, line and field.
private struct NodeReader {
    let path: String

    func fail(_ node: Node?, _ field: String, _ problem: String) -> InventoryError {
        InventoryError(path: path, line: node?.mark?.line, field: field, problem: problem)
    }

    func yamlError(_ error: Error) -> InventoryError {
        switch error {
        case let YamlError.scanner(_, problem, mark, _), let YamlError.parser(_, problem, mark, _), let YamlError.composer(_, problem, mark, _):
            return InventoryError(path: path, line: mark.line, field: nil, problem: "not valid YAML: \(problem)")
        case let YamlError.duplicatedKeysInMapping(duplicates, _):
            return InventoryError(path: path, line: nil, field: duplicates.joined(separator: ", "), problem: "given twice")
        default:
            return InventoryError(path: path, line: nil, field: nil, problem: "not valid YAML: \(error)")
        }
    }

    func mapping(_ node: Node, field: String, allowed: Set<String>) throws(InventoryError) -> [String: Node] {
        guard case let .mapping(mapping) = node else { throw fail(node, field, "must be a mapping of fields") }
        var result: [String: Node] = [:]
        for (key, value) in mapping {
            guard let name = key.string else { throw fail(key, field, "field names must be text") }
            guard allowed.contains(name) else {
                throw fail(
                    key, field == "the document" ? name : "\(field).\(name)",
                    "unknown field; expected one of \(allowed.sorted().joined(separator: ", "))")
            }
            guard result[name] == nil else { throw fail(key, "\(field).\(name)", "given twice") }
            result[name] = value
        }
        return result
    }

    func string(_ node: Node, field: String) throws(InventoryError) -> String {
        guard case let .scalar(scalar) = node else { throw fail(node, field, "must be a single value") }
        return scalar.string
    }

    func port(_ node: Node, field: String) throws(InventoryError) -> Int {
        guard case .scalar = node, let port = node.int, (1...65535).contains(port) else {
            throw fail(node, field, "must be a port number 1–65535")
        }
        return port
    }

    func stringList(_ node: Node, field: String) throws(InventoryError) -> [String] {
        guard case let .sequence(sequence) = node else { throw fail(node, field, "must be a list, e.g. [prod, eu]") }
        var values: [String] = []
        for item in sequence { values.append(try string(item, field: field)) }
        return values
    }

    /// `service-center: {scheme: http, host: NAME, port: N}`: how the agent calls Service Center.
    func serviceCenter(_ node: Node, field: String) throws(InventoryError) -> ServiceCenterAccess {
        let fields = try mapping(node, field: field, allowed: ["scheme", "host", "port"])
        var access = ServiceCenterAccess()
        if let scheme = fields["scheme"] {
            let text = try string(scheme, field: "\(field).scheme")
            guard let value = ServiceCenterScheme(rawValue: text) else { throw fail(scheme, "\(field).scheme", "must be http or https") }
            access.scheme = value
        }
        if let host = fields["host"] {
            let text = try string(host, field: "\(field).host")
            guard PlatformInfoArguments.isHostName(text) else { throw fail(host, "\(field).host", "must be a host name, as an IIS binding has it") }
            access.host = text
        }
        if let port = fields["port"] { access.port = try self.port(port, field: "\(field).port") }
        return access
    }

    /// The server's hooks: the defaults' ones, each replaced by the server's own of the same name.
    func hooks(defaults: Node?, own: Node?, prefix: String, folder: String) throws(InventoryError) -> ServerHooks {
        var hooks = ServerHooks()
        for (node, field) in [(defaults, "defaults.hooks"), (own, "\(prefix).hooks")] {
            guard let node else { continue }
            let fields = try mapping(node, field: field, allowed: InventoryLoader.hookFields)
            for (key, value) in fields {
                if key == "timeout" {
                    guard case .scalar = value, let seconds = value.float, ServerHooks.timeoutRange.contains(seconds) else {
                        throw fail(value, "\(field).timeout", "must be a number of seconds from 1 to 3600")
                    }
                    hooks.timeout = seconds
                    continue
                }
                if key == "pass-env" {
                    let names = try stringList(value, field: "\(field).pass-env")
                    if let bad = names.first(where: { !EnvironmentVariableName.isValid($0) }) {
                        throw fail(value, "\(field).pass-env", "\"\(bad)\" is not an environment variable name")
                    }
                    hooks.passEnvironment = names
                    continue
                }
                if key == "rejoin" {
                    guard case .scalar = value, let point = (try? string(value, field: "\(field).rejoin")).flatMap(RejoinPoint.init(rawValue:)) else {
                        throw fail(
                            value, "\(field).rejoin",
                            "must be after-settings (back behind the load balancer once settings are applied) or after-verify (as soon as the server is verified)"
                        )
                    }
                    hooks.rejoin = point
                    continue
                }
                var argv = try stringList(value, field: "\(field).\(key)")
                guard let program = argv.first, !program.isEmpty else {
                    throw fail(value, "\(field).\(key)", "must be a command as a list: [program, argument, …]")
                }
                argv[0] = try path(value, text: program, field: "\(field).\(key)", folder: folder)
                hooks.commands[key] = argv
            }
        }
        return hooks
    }

    func path(_ node: Node, field: String, folder: String) throws(InventoryError) -> String {
        try path(node, text: try string(node, field: field), field: field, folder: folder)
    }

    private func path(_ node: Node, text: String, field: String, folder: String) throws(InventoryError) -> String {
        guard !text.isEmpty else { throw fail(node, field, "must not be empty") }
        let expanded = NSString(string: text).expandingTildeInPath
        return expanded.hasPrefix("/") ? expanded : URL(fileURLWithPath: folder).appendingPathComponent(expanded).standardized.path
    }
}
