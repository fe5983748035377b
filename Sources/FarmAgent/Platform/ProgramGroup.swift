import Foundation
#if os(Windows)
    import WinSDK
#elseif canImport(Glibc)
    import Glibc
#endif

/// A program the agent started together with every process it starts in turn, so all of them can
/// be ended at once when the program's deadline passes.
///
/// Linux (the simulator): Foundation starts each child in a process group of its own (pgid = pid),
/// and grandchildren stay in it; the group is killed.
/// Windows: a job object with JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE; processes the program starts
/// after it joined the job belong to the job too (nested jobs, Windows 8 / Server 2012 and later).
/// Foundation gives no way to start the program suspended, so it joins the job just after it
/// starts: a process it started in that instant would escape.
final class ProgramGroup: @unchecked Sendable {
    #if os(Windows)
        private var job: HANDLE?

        init(_ process: Process) {
            job = CreateJobObjectW(nil, nil)
            guard let job else { return }
            var limits = JOBOBJECT_EXTENDED_LIMIT_INFORMATION()
            limits.BasicLimitInformation.LimitFlags = DWORD(JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE)
            _ = SetInformationJobObject(
                job, JobObjectExtendedLimitInformation, &limits,
                DWORD(MemoryLayout<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>.size))
            if let handle = OpenProcess(DWORD(PROCESS_SET_QUOTA | PROCESS_TERMINATE), false, DWORD(process.processIdentifier)) {
                _ = AssignProcessToJobObject(job, handle)
                CloseHandle(handle)
            }
        }

        func terminate() {
            if let job { _ = TerminateJobObject(job, 1) }
        }

        /// Closing the last handle ends whatever is still in the job.
        func close() {
            if let job { CloseHandle(job) }
            job = nil
        }
    #else
        private let groupID: pid_t
        private var open = true

        init(_ process: Process) { groupID = process.processIdentifier }

        func terminate() {
            if open && groupID > 0 { _ = kill(-groupID, SIGKILL) }
        }

        func close() { open = false }
    #endif
}
