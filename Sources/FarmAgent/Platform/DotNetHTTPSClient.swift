import FarmProtocol
import Foundation

/// One HTTPS POST made by .NET Framework's HttpWebRequest in the fixed script PlatformInfoScript
/// (deploy/windows/Get-OsfarmPlatformInfo.ps1), started as the login check is:
/// `powershell.exe -NoProfile -NonInteractive -EncodedCommand`, its input as JSON on stdin.
///
/// Why a script: the agent is Foundation-only and its HTTP client is plain sockets; Foundation's
/// URLSession on Linux (libcurl) offers no server-trust challenge, so it cannot accept one
/// self-signed certificate and refuse the rest. .NET Framework is on every OutSystems 11 server,
/// its HttpWebRequest is the client under SetupTools' New-WebServiceProxy proxy, and its
/// ServerCertificateValidationCallback (per request, .NET 4.5 and later) is where the script
/// accepts a certificate with errors only on loopback and only when it is the server's own.
struct DotNetHTTPSClient {
    let runner: any CommandRunner

    enum Outcome {
        /// The server answered (any status); the certificate it presented.
        case answered(HTTPResponse, ServiceCenterCertificate?)
        /// No answer: WebException.Status as .NET names it (TrustFailure, Timeout, ConnectFailure…).
        case failed(status: String, message: String, ServiceCenterCertificate?)
    }

    struct Input: Encodable {
        var url: String
        var host: String?
        var soapAction: String
        var envelope: String
        var timeoutSeconds: Double
    }

    struct Output: Decodable {
        struct Certificate: Decodable {
            var subject: String?
            var thumbprint: String?
            var errors: String?
            var loopback: Bool?
            var inMachineStore: Bool?
            var accepted: Bool?
        }
        var status: Int
        var reason: String?
        var server: String?
        var location: String?
        var body: String?
        var failure: String?
        var message: String?
        var certificate: Certificate?
    }

    func post(_ input: Input) throws(AgentError) -> Outcome {
        let data: Data
        do {
            data = try JSONEncoder().encode(input)
        } catch {
            throw AgentError(.internalError, "cannot encode the HTTPS call's input")
        }
        let output = try runner.run(
            FixedScript.powerShell, FixedScript.arguments(PlatformInfoScript.text), input: data, timeout: input.timeoutSeconds + 30)
        for line in output.output.split(whereSeparator: \.isNewline).reversed() {
            guard let answer = try? JSONDecoder().decode(Output.self, from: Data(line.utf8)) else { continue }
            return Self.outcome(answer)
        }
        let said = output.output.split(whereSeparator: \.isNewline).prefix(3).joined(separator: " ")
        throw AgentError(
            .operationFailed,
            "the HTTPS script gave no answer (powershell.exe exited \(output.exitCode)\(output.timedOut ? ", timed out" : ""): \(said.prefix(300)))")
    }

    static func outcome(_ answer: Output) -> Outcome {
        let certificate = answer.certificate.map {
            ServiceCenterCertificate(
                subject: $0.subject ?? "", thumbprint: $0.thumbprint ?? "", errors: $0.errors ?? "", loopback: $0.loopback ?? false,
                inMachineStore: $0.inMachineStore ?? false, accepted: $0.accepted ?? false)
        }
        guard answer.status > 0 else {
            return .failed(status: answer.failure ?? "UnknownError", message: answer.message ?? "", certificate)
        }
        var headers: [(name: String, value: String)] = []
        if let server = answer.server, !server.isEmpty { headers.append(("Server", server)) }
        if let location = answer.location, !location.isEmpty { headers.append(("Location", location)) }
        return .answered(HTTPResponse(status: answer.status, reason: answer.reason ?? "", headers: headers, body: Array((answer.body ?? "").utf8)), certificate)
    }
}
