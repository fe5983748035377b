#if os(Windows)
    import FarmProtocol
    import Foundation
    import WinSDK

    /// A security descriptor that lets in the Administrators group and SYSTEM, full control each, and
    /// nobody else. Its DACL is protected, so nothing is inherited from the parent folder (C:\ProgramData
    /// lets Users read what is created under it). Used for osfarm's backups: server.hsconf copies can
    /// hold clear-text passwords and private.key decrypts the others.
    ///
    /// Given to CreateFileW/CreateDirectoryW through SECURITY_ATTRIBUTES, with SE_DACL_PROTECTED set so
    /// the parent's inheritable entries are not merged in
    /// (https://learn.microsoft.com/windows/win32/secauthz/security-descriptors-for-new-objects).
    /// It cannot be compiled on the Linux machine that builds and tests osfarm: keep it this small.
    final class OwnerOnlySecurity {
        private let descriptor: UnsafeMutableRawPointer
        private let acl: UnsafeMutableRawPointer

        /// SECURITY_MAX_SID_SIZE (winnt.h defines it with sizeof, which Swift does not import).
        private static let maxSIDSize = 68

        /// `directory`: the entries are inherited by what is created inside the folder.
        init(directory: Bool) throws {
            let sidSize = Self.maxSIDSize
            let administrators = UnsafeMutableRawPointer.allocate(byteCount: sidSize, alignment: 8)
            let system = UnsafeMutableRawPointer.allocate(byteCount: sidSize, alignment: 8)
            defer {
                administrators.deallocate()
                system.deallocate()
            }
            let aclSize = MemoryLayout<ACL>.size + 2 * (MemoryLayout<ACCESS_ALLOWED_ACE>.size + sidSize)
            acl = UnsafeMutableRawPointer.allocate(byteCount: aclSize, alignment: 8)
            descriptor = UnsafeMutableRawPointer.allocate(byteCount: MemoryLayout<SECURITY_DESCRIPTOR>.size, alignment: 8)
            var length = DWORD(sidSize)
            guard CreateWellKnownSid(WinBuiltinAdministratorsSid, nil, administrators, &length) else { throw Self.failure("CreateWellKnownSid") }
            length = DWORD(sidSize)
            guard CreateWellKnownSid(WinLocalSystemSid, nil, system, &length) else { throw Self.failure("CreateWellKnownSid") }
            let list = acl.assumingMemoryBound(to: ACL.self)
            let inheritance = directory ? DWORD(OBJECT_INHERIT_ACE | CONTAINER_INHERIT_ACE) : 0
            guard InitializeAcl(list, DWORD(aclSize), DWORD(ACL_REVISION)),
                AddAccessAllowedAceEx(list, DWORD(ACL_REVISION), inheritance, DWORD(FILE_ALL_ACCESS), administrators),
                AddAccessAllowedAceEx(list, DWORD(ACL_REVISION), inheritance, DWORD(FILE_ALL_ACCESS), system)
            else { throw Self.failure("InitializeAcl/AddAccessAllowedAceEx") }
            let protected = SECURITY_DESCRIPTOR_CONTROL(SE_DACL_PROTECTED)
            guard InitializeSecurityDescriptor(descriptor, DWORD(SECURITY_DESCRIPTOR_REVISION)),
                SetSecurityDescriptorDacl(descriptor, true, list, false),
                SetSecurityDescriptorControl(descriptor, protected, protected)
            else { throw Self.failure("InitializeSecurityDescriptor/SetSecurityDescriptorDacl") }
        }

        deinit {
            acl.deallocate()
            descriptor.deallocate()
        }

        /// SECURITY_ATTRIBUTES for CreateFileW/CreateDirectoryW: the object has this ACL from its first moment.
        func withAttributes<T>(_ body: (UnsafeMutablePointer<SECURITY_ATTRIBUTES>) throws -> T) rethrows -> T {
            var attributes = SECURITY_ATTRIBUTES(
                nLength: DWORD(MemoryLayout<SECURITY_ATTRIBUTES>.size), lpSecurityDescriptor: descriptor,
                bInheritHandle: false)
            return try body(&attributes)
        }

        /// Narrows an existing file or folder to this ACL.
        func apply(to path: String) throws {
            let info = SECURITY_INFORMATION(DACL_SECURITY_INFORMATION) | SECURITY_INFORMATION(PROTECTED_DACL_SECURITY_INFORMATION)
            let applied = path.withCString(encodedAs: UTF16.self) { SetFileSecurityW($0, info, descriptor) }
            guard applied else { throw Self.failure("SetFileSecurityW") }
        }

        private static func failure(_ call: String) -> ServerFiles.SystemFailure {
            ServerFiles.SystemFailure(call: call, code: Int(GetLastError()), reason: "Windows error")
        }
    }
#endif
