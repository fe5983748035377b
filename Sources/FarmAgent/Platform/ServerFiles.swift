import FarmProtocol
import Foundation
#if os(Windows)
    import WinSDK
#elseif canImport(Glibc)
    import Glibc
#endif

/// Files on the server by their Windows paths: read, hash, and write through a temporary file and
/// a rename, so a reader never sees half a file.
///
/// Two kinds of write, because two kinds of file:
/// - `writeOwnerOnly`: osfarm's own copies (backups of server.hsconf, which can hold clear-text
///   passwords, and of private.key, which decrypts the rest). Created readable by Administrators
///   and SYSTEM only (0600 on Linux), from the first byte: no window in which another account can
///   open them.
/// - `replace`: an OutSystems file rewritten in place of itself. It keeps the original's
///   permissions: its mode (and owner, when allowed) on Linux; on Windows its ACL, through
///   ReplaceFileW, which gives the replacement the replaced file's DACL, attributes and creation
///   time (https://learn.microsoft.com/windows/win32/api/winbase/nf-winbase-replacefilew). Chosen
///   over writing in place because a crash mid-write would leave a torn server.hsconf.
public struct ServerFiles: Sendable {
    let environment: HostEnvironment

    public init(environment: HostEnvironment) { self.environment = environment }

    public func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: environment.localPath(path)) }

    public func read(_ path: String) throws(AgentError) -> Data {
        guard let data = FileManager.default.contents(atPath: environment.localPath(path)) else {
            throw AgentError(.notFound, exists(path) ? "cannot read \(path)" : "\(path) does not exist")
        }
        return data
    }

    /// Creates (or replaces) a file only Administrators and SYSTEM can read: 0600 on Linux.
    public func writeOwnerOnly(_ data: Data, to path: String) throws(AgentError) {
        let local = environment.localPath(path)
        let temporary = Self.temporaryPath(beside: local)
        do {
            try Self.createOwnerOnly(temporary, data)
            try Self.rename(temporary, over: local)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw AgentError(.operationFailed, "cannot write \(path): \(error)")
        }
    }

    /// Rewrites `path` with `data`, keeping the permissions the file has now. A missing file is
    /// created with the folder's defaults.
    public func replace(_ data: Data, at path: String) throws(AgentError) {
        let local = environment.localPath(path)
        guard FileManager.default.fileExists(atPath: local) else {
            do {
                try data.write(to: URL(fileURLWithPath: local), options: .atomic)
                return
            } catch {
                throw AgentError(.operationFailed, "cannot write \(path): \(error.localizedDescription)")
            }
        }
        let temporary = Self.temporaryPath(beside: local)
        do {
            try Self.replace(local, with: data, through: temporary)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw AgentError(.operationFailed, "cannot rewrite \(path): \(error)")
        }
    }

    public func createDirectory(_ path: String) throws(AgentError) {
        do {
            try FileManager.default.createDirectory(atPath: environment.localPath(path), withIntermediateDirectories: true)
        } catch {
            throw AgentError(.operationFailed, "cannot create \(path): \(error.localizedDescription)")
        }
    }

    /// Creates `path` (and its parents, with the defaults) as a folder only Administrators and
    /// SYSTEM can open: 0700 on Linux. An existing folder is narrowed to the same.
    public func createOwnerOnlyDirectory(_ path: String) throws(AgentError) {
        let local = environment.localPath(path)
        do {
            let parent = (local as NSString).deletingLastPathComponent
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
            try Self.makeOwnerOnlyDirectory(local)
        } catch {
            throw AgentError(.operationFailed, "cannot create \(path): \(error)")
        }
    }

    /// What a folder holds (names only); empty when it does not exist.
    public func entries(in directory: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: environment.localPath(directory))) ?? []
    }

    public struct Info: Sendable, Equatable {
        public var isDirectory: Bool
        public var isRegularFile: Bool
        public var bytes: Int64
        public var modified: Date?
    }

    /// The item itself (a link is not followed); nil when it does not exist.
    public func info(_ path: String) -> Info? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: environment.localPath(path)) else { return nil }
        let type = attributes[.type] as? FileAttributeType
        return Info(
            isDirectory: type == .typeDirectory, isRegularFile: type == .typeRegular,
            bytes: (attributes[.size] as? NSNumber)?.int64Value ?? 0, modified: attributes[.modificationDate] as? Date)
    }

    /// Removes a file or a folder with everything in it (links are removed, not followed).
    public func remove(_ path: String) throws(AgentError) {
        do {
            try FileManager.default.removeItem(atPath: environment.localPath(path))
        } catch {
            throw AgentError(.operationFailed, "cannot remove \(path): \(error.localizedDescription)")
        }
    }

    /// Free bytes on the volume holding `path`, when the system says.
    public func freeBytes(near path: String) -> Int64? {
        let attributes = try? FileManager.default.attributesOfFileSystem(forPath: environment.localPath(path))
        return (attributes?[.systemFreeSize] as? NSNumber)?.int64Value
    }

    /// The last `count` lines of a text file, starting at byte `offset` (what was appended since).
    public func tail(_ path: String, lines count: Int, from offset: Int = 0) -> [String] {
        guard let data = try? read(path), offset >= 0, offset <= data.count else { return [] }
        let text = String(decoding: data[offset...], as: UTF8.self)
        return text.split(whereSeparator: \.isNewline).suffix(count).map(String.init)
    }

    public func size(_ path: String) -> Int { (try? read(path).count) ?? 0 }

    private static func temporaryPath(beside local: String) -> String {
        local + ".osfarm-" + UUID().uuidString.prefix(8).lowercased() + ".tmp"
    }

    /// A platform call that failed, with the system's reason.
    struct SystemFailure: Error, CustomStringConvertible {
        var call: String
        var code: Int
        var reason: String
        var description: String { "\(call) failed: \(reason) (\(code))" }
    }

    #if os(Windows)
        // Written against the Win32 security and file API; it cannot be compiled on the Linux machine
        // that builds and tests osfarm, so it is kept to these few calls (see OwnerOnlySecurity).

        private static func failure(_ call: String) -> SystemFailure {
            SystemFailure(call: call, code: Int(GetLastError()), reason: "Windows error")
        }

        private static func createOwnerOnly(_ path: String, _ data: Data) throws {
            let security = try OwnerOnlySecurity(directory: false)
            try security.withAttributes { attributes in
                try writeNew(path, data, attributes: attributes)
            }
        }

        /// CREATE_NEW with the given security: the file has its ACL from the moment it exists.
        private static func writeNew(_ path: String, _ data: Data, attributes: UnsafeMutablePointer<SECURITY_ATTRIBUTES>?) throws {
            let handle = path.withCString(encodedAs: UTF16.self) {
                CreateFileW($0, DWORD(GENERIC_WRITE), 0, attributes, DWORD(CREATE_NEW), DWORD(FILE_ATTRIBUTE_NORMAL), nil)
            }
            guard handle != INVALID_HANDLE_VALUE else { throw failure("CreateFileW") }
            defer { CloseHandle(handle) }
            try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
                guard let base = bytes.baseAddress else { return }
                var offset = 0
                while offset < bytes.count {
                    var written: DWORD = 0
                    let chunk = DWORD(min(bytes.count - offset, 1 << 20))
                    guard WriteFile(handle, base + offset, chunk, &written, nil), written > 0 else { throw failure("WriteFile") }
                    offset += Int(written)
                }
            }
            guard FlushFileBuffers(handle) else { throw failure("FlushFileBuffers") }
        }

        private static func rename(_ source: String, over destination: String) throws {
            let moved = source.withCString(encodedAs: UTF16.self) { from in
                destination.withCString(encodedAs: UTF16.self) { to in
                    MoveFileExW(from, to, DWORD(MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH))
                }
            }
            guard moved else { throw failure("MoveFileExW") }
        }

        /// The new content goes into an owner-only temporary file (nobody else can read it while it is
        /// written); ReplaceFileW then gives it the replaced file's ACL. No IGNORE_MERGE_ERRORS flag:
        /// when the ACL cannot be carried over, the replace fails instead of quietly widening access.
        private static func replace(_ path: String, with data: Data, through temporary: String) throws {
            try createOwnerOnly(temporary, data)
            let replaced = path.withCString(encodedAs: UTF16.self) { original in
                temporary.withCString(encodedAs: UTF16.self) { replacement in
                    ReplaceFileW(original, replacement, nil, 0, nil, nil)
                }
            }
            guard replaced else { throw failure("ReplaceFileW") }
        }

        private static func makeOwnerOnlyDirectory(_ path: String) throws {
            let security = try OwnerOnlySecurity(directory: true)
            if FileManager.default.fileExists(atPath: path) {
                try security.apply(to: path)
                return
            }
            let created = try security.withAttributes { attributes in
                path.withCString(encodedAs: UTF16.self) { CreateDirectoryW($0, attributes) }
            }
            guard created else { throw failure("CreateDirectoryW") }
        }
    #else
        private static func failure(_ call: String) -> SystemFailure {
            SystemFailure(call: call, code: Int(errno), reason: String(cString: strerror(errno)))
        }

        private static func createOwnerOnly(_ path: String, _ data: Data) throws {
            try writeNew(path, data, mode: 0o600)
        }

        /// O_EXCL with the final mode set on the descriptor before the first byte is written.
        private static func writeNew(_ path: String, _ data: Data, mode: mode_t, owner: (uid_t, gid_t)? = nil) throws {
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw failure("open") }
            defer { close(fd) }
            // open's mode passes through the umask; fchmod does not.
            guard fchmod(fd, mode) == 0 else { throw failure("fchmod") }
            if let owner, fchown(fd, owner.0, owner.1) != 0, errno != EPERM { throw failure("fchown") }
            try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
                guard let base = bytes.baseAddress else { return }
                var offset = 0
                while offset < bytes.count {
                    let written = Glibc.write(fd, base + offset, bytes.count - offset)
                    if written < 0 && errno == EINTR { continue }
                    guard written > 0 else { throw failure("write") }
                    offset += written
                }
            }
            guard fsync(fd) == 0 else { throw failure("fsync") }
        }

        private static func rename(_ source: String, over destination: String) throws {
            guard Glibc.rename(source, destination) == 0 else { throw failure("rename") }
        }

        private static func replace(_ path: String, with data: Data, through temporary: String) throws {
            var status = stat()
            guard stat(path, &status) == 0 else { throw failure("stat") }
            try writeNew(temporary, data, mode: status.st_mode & 0o7777, owner: (status.st_uid, status.st_gid))
            try rename(temporary, over: path)
        }

        private static func makeOwnerOnlyDirectory(_ path: String) throws {
            if mkdir(path, 0o700) != 0 && errno != EEXIST { throw failure("mkdir") }
            guard chmod(path, 0o700) == 0 else { throw failure("chmod") }
        }
    #endif
}
