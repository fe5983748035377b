import Foundation

/// An HTTP/1.1 response as read off the wire.
struct HTTPResponse: Equatable {
    var status: Int
    var reason: String
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    static func == (lhs: HTTPResponse, rhs: HTTPResponse) -> Bool {
        lhs.status == rhs.status && lhs.reason == rhs.reason && lhs.body == rhs.body
            && lhs.headers.map { "\($0.name): \($0.value)" } == rhs.headers.map { "\($0.name): \($0.value)" }
    }
}

enum HTTPClientError: Error, Equatable, CustomStringConvertible {
    case socket(NetworkSocketError)
    case malformed(String)
    case tooLarge

    var description: String {
        switch self {
        case let .socket(error): return error.description
        case let .malformed(reason): return "the answer is not HTTP: \(reason)"
        case .tooLarge: return "the answer is over \(HTTPClient.maximumResponseBytes) bytes"
        }
    }
}

/// A plain HTTP/1.1 client over one TCP connection (RFC 9112 framing: Content-Length, chunked, or
/// until the server closes), one request per connection, every wait under one deadline. URLSession
/// does not exist for a static Linux agent, and this is all GetPlatformInfo needs.
enum HTTPClient {
    static let maximumResponseBytes = 1 << 20

    /// Sends `method path` to `address`:`port` with `Host: hostHeader` and reads the whole answer.
    static func request(
        method: String, path: String, hostHeader: String, address: String, port: Int, headers: [(String, String)],
        body: [UInt8], deadline: Date
    ) throws(HTTPClientError) -> HTTPResponse {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(hostHeader)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        var received: [UInt8] = []
        do {
            let socket = try NetworkSocket.connect(host: address, port: port, transport: .tcp, deadline: deadline)
            try socket.send(Array(head.utf8) + body, deadline: deadline)
            while true {
                if let complete = try parse(received, final: false) { return complete }
                let chunk = try socket.receive(limit: 64 * 1024, deadline: deadline)
                if chunk.isEmpty { break }
                received += chunk
                guard received.count <= maximumResponseBytes else { throw HTTPClientError.tooLarge }
            }
        } catch let error as NetworkSocketError {
            throw .socket(error)
        } catch let error as HTTPClientError {
            throw error
        } catch {
            throw .malformed("\(error)")
        }
        guard let response = try parse(received, final: true) else { throw .malformed("the connection closed mid-answer") }
        return response
    }

    /// The response in `bytes` when it is complete; nil when more must be read. With `final`, the
    /// connection has closed, which ends a body framed by nothing else.
    static func parse(_ bytes: [UInt8], final: Bool) throws(HTTPClientError) -> HTTPResponse? {
        guard let headEnd = find([13, 10, 13, 10], in: bytes) else {
            if final { throw .malformed(bytes.isEmpty ? "the server closed the connection without answering" : "the headers never ended") }
            return nil
        }
        let lines = String(decoding: bytes[..<headEnd], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/1."), statusParts[1].count == 3, let status = Int(statusParts[1]) else {
            throw .malformed("status line \"\(lines[0].prefix(80))\"")
        }
        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { throw .malformed("header line \"\(line.prefix(80))\"") }
            headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        var response = HTTPResponse(status: status, reason: statusParts.count > 2 ? String(statusParts[2]) : "", headers: headers, body: [])
        let rest = Array(bytes[(headEnd + 4)...])
        if response.header("Transfer-Encoding")?.lowercased().contains("chunked") == true {
            guard let body = try dechunk(rest) else {
                if final { throw .malformed("the chunked body was cut short") }
                return nil
            }
            response.body = body
            return response
        }
        if let length = response.header("Content-Length") {
            guard length.count <= 9, let count = Int(length), count >= 0 else { throw .malformed("Content-Length \"\(length)\"") }
            guard rest.count >= count else {
                if final { throw .malformed("the body was cut short (\(rest.count) of \(count) bytes)") }
                return nil
            }
            response.body = Array(rest.prefix(count))
            return response
        }
        guard final else { return nil }
        response.body = rest
        return response
    }

    /// The body of a chunked transfer coding; nil while incomplete.
    static func dechunk(_ bytes: [UInt8]) throws(HTTPClientError) -> [UInt8]? {
        var body: [UInt8] = []
        var index = 0
        while true {
            guard let lineEnd = find([13, 10], in: bytes, from: index) else { return nil }
            let sizeText = String(decoding: bytes[index..<lineEnd], as: UTF8.self).split(separator: ";").first.map(String.init) ?? ""
            let trimmed = sizeText.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty, trimmed.count <= 8, let size = Int(trimmed, radix: 16) else { throw .malformed("chunk size \"\(sizeText)\"") }
            index = lineEnd + 2
            if size == 0 { return body }
            guard bytes.count >= index + size + 2 else { return nil }
            body += bytes[index..<(index + size)]
            index += size + 2
        }
    }

    static func find(_ needle: [UInt8], in bytes: [UInt8], from start: Int = 0) -> Int? {
        guard bytes.count >= needle.count, start <= bytes.count - needle.count else { return nil }
        for index in start...(bytes.count - needle.count) where bytes[index] == needle[0] {
            if Array(bytes[index..<(index + needle.count)]) == needle { return index }
        }
        return nil
    }
}
