import CLibSSH2
import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// Process-wide libssh2 set-up, done once.
enum LibSSH2 {
    private static let initialised: Bool = {
        // A server that vanishes must make a write fail, not kill the controller.
        signal(SIGPIPE, SIG_IGN)
        return libssh2_init(0) == 0
    }()

    static func ensureInitialised() throws(SSHError) {
        guard initialised else { throw .handshakeFailed("libssh2_init failed") }
    }

    /// Host key algorithms libssh2 1.10 can verify, in the order OpenSSH prefers them.
    static let supportedHostKeyTypes = [
        "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa",
    ]
}
