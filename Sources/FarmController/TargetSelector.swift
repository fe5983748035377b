import FarmProtocol

/// The `--limit` expression: which servers of the inventory a command acts on.
///
/// A comma list of terms; a term is a server name or glob (`fe*`, `web-?`), `role:NAME`
/// (`deployment-controller`/`dc`, `front-end`/`fe`) or `tag:NAME`; a leading `!` excludes.
/// Servers matching any included term (all servers when only exclusions are given) and no
/// excluded term are selected, in inventory order. A term that matches nothing is an error, so a
/// typo never shrinks or widens a run silently.
public struct TargetSelector: Sendable, Equatable {
    public struct LimitError: Error, Sendable, Equatable, CustomStringConvertible {
        public var expression: String
        public var problem: String
        public var description: String { "--limit \"\(expression)\": \(problem)" }
    }

    enum Term: Sendable, Equatable {
        case name(String)
        case role(ServerRole)
        case tag(String)

        func matches(_ server: ServerEntry) -> Bool {
            switch self {
            case let .name(pattern): return Wildcard.matches(pattern, server.name)
            case let .role(role): return server.role == role
            case let .tag(tag): return server.tags.contains(tag)
            }
        }
    }

    public let expression: String
    let included: [Term]
    let excluded: [Term]

    /// Parses an expression; nil or empty selects every server.
    public init(_ expression: String?) throws(LimitError) {
        let text = expression?.trimmingCharacters(in: .whitespaces) ?? ""
        self.expression = text
        var included: [Term] = [], excluded: [Term] = []
        if !text.isEmpty {
            for raw in text.split(separator: ",", omittingEmptySubsequences: false) {
                var part = raw.trimmingCharacters(in: .whitespaces)
                let negated = part.hasPrefix("!")
                if negated { part.removeFirst() }
                guard !part.isEmpty else { throw LimitError(expression: text, problem: "empty term") }
                let term = try Self.term(part, expression: text)
                if negated { excluded.append(term) } else { included.append(term) }
            }
        }
        self.included = included
        self.excluded = excluded
    }

    private static func term(_ part: String, expression: String) throws(LimitError) -> Term {
        if part.hasPrefix("role:") {
            switch String(part.dropFirst(5)) {
            case "deployment-controller", "dc": return .role(.deploymentController)
            case "front-end", "fe": return .role(.frontEnd)
            case let other:
                throw LimitError(expression: expression, problem: "unknown role \"\(other)\"; use deployment-controller (dc) or front-end (fe)")
            }
        }
        if part.hasPrefix("tag:") {
            let tag = String(part.dropFirst(4))
            guard !tag.isEmpty else { throw LimitError(expression: expression, problem: "tag: needs a tag name") }
            return .tag(tag)
        }
        return .name(part)
    }

    public var selectsEverything: Bool { included.isEmpty && excluded.isEmpty }

    /// The selected servers in inventory order.
    public func select(from servers: [ServerEntry]) throws(LimitError) -> [ServerEntry] {
        for term in included + excluded where !servers.contains(where: term.matches) {
            throw LimitError(expression: expression, problem: "\(Self.describe(term)) matches no server in the inventory")
        }
        let chosen = servers.filter { server in
            (included.isEmpty || included.contains { $0.matches(server) }) && !excluded.contains { $0.matches(server) }
        }
        guard !chosen.isEmpty else { throw LimitError(expression: expression, problem: "selects no server") }
        return chosen
    }

    private static func describe(_ term: Term) -> String {
        switch term {
        case let .name(name): return "\"\(name)\""
        case let .role(role): return "role:\(role.rawValue)"
        case let .tag(tag): return "tag:\(tag)"
        }
    }
}
