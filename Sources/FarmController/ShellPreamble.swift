import FarmProtocol

/// What a server's shell printed before the agent's hello, skipped within bounds.
///
/// Win32-OpenSSH starts a session's command through its DefaultShell: `powershell.exe -c …`
/// without `-NoProfile`, so the machine's and the user's PowerShell profiles run first, and
/// `cmd.exe /c …` without `/D`, so the Command Processor's `AutoRun` commands run first
/// (PowerShell/openssh-portable `contrib/win32/win32compat/w32-doexec.c`; Microsoft Learn
/// "about_Profiles" and "cmd"). Whatever they print reaches stdout ahead of the agent. Up to
/// `byteLimit` bytes of such lines are kept (shown under `--debug`) and skipped, and a hello at
/// the end of a line (a profile that wrote without a newline) is found; past the limit, or when no
/// hello comes, the session fails saying what was printed and where such output comes from.
///
/// No I/O and no clock: the session feeds it lines and enforces the deadline.
public struct ShellPreamble: Sendable, Equatable {
    /// Output skipped before the hello, at most (64 KiB: a banner or a profile's greeting, not a
    /// stream of output).
    public static let byteLimit = 64 * 1024
    /// Where such output comes from, for the error.
    public static let sources =
        "Win32-OpenSSH starts the agent through its DefaultShell, which runs the PowerShell profiles"
        + " ($PSHOME\\profile.ps1, $PSHOME\\Microsoft.PowerShell_profile.ps1 and the user's Documents\\WindowsPowerShell\\ ones)"
        + " or cmd.exe's AutoRun (HKLM and HKCU\\Software\\Microsoft\\Command Processor) before it;"
        + " make them print nothing in a non-interactive session"

    public private(set) var lines: [String] = []
    public private(set) var byteCount = 0

    public init() {}

    /// Reads one line: the hello when this line carries it, nil when it was skipped as shell
    /// output. Throws once the output passes the limit, or for a first message that is not hello.
    public mutating func read(_ item: LineFramer.Item) throws(AgentSessionError) -> Hello? {
        switch item {
        case let .oversize(count):
            byteCount += count
            lines.append("(a line of \(count) bytes)")
        case let .line(bytes):
            if let message = try? WireCodec.decodeAgentMessage(bytes) {
                guard case let .hello(hello) = message else { throw .protocolViolation("the agent's first message was not hello") }
                return hello
            }
            // A profile that wrote without a final newline leaves its text in front of the hello.
            if let brace = bytes.firstIndex(of: UInt8(ascii: "{")), brace > bytes.startIndex,
                case let .hello(hello)? = try? WireCodec.decodeAgentMessage(Array(bytes[brace...]))
            {
                record(Array(bytes[..<brace]))
                guard byteCount <= Self.byteLimit else { throw failure(ended: nil) }
                return hello
            }
            record(bytes)
        }
        guard byteCount <= Self.byteLimit else { throw failure(ended: nil) }
        return nil
    }

    private mutating func record(_ bytes: [UInt8]) {
        byteCount += bytes.count + 1
        lines.append(String(decoding: bytes, as: UTF8.self))
    }

    /// The session's error once the output passed the limit (`ended` nil), the output ended
    /// (the shell's exit) or the hello's deadline passed.
    public func failure(ended: String?) -> AgentSessionError {
        .shellOutputBeforeHello(printed: Self.excerpt(lines), byteCount: byteCount, ended: ended)
    }

    /// The first and last lines, each cut short: enough to recognise a banner or an error.
    static func excerpt(_ lines: [String]) -> String {
        let shown = lines.count <= 6 ? lines : Array(lines.prefix(3)) + ["… \(lines.count - 6) more lines …"] + Array(lines.suffix(3))
        return shown.map { $0.count > 160 ? String($0.prefix(160)) + "…" : $0 }.joined(separator: " | ")
    }
}
