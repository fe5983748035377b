import FarmProtocol
import Foundation

/// server.hsconf and private.key: backup under a run id, repoint, and restore byte for byte.
struct ConfigurationFiles {
    let files: ServerFiles
    let installation: Installation

    private static let manifestName = "manifest.json"

    private func backupDirectory(_ runID: String) throws(AgentError) -> String {
        try BackupCatalog.runDirectory(runID)
    }

    /// Copies both files aside with their SHA-256, readable by Administrators and SYSTEM only (the
    /// server.hsconf copy can hold clear-text passwords, private.key decrypts the rest). A backup
    /// already made for this run is kept as it is (it holds the state before the run), after
    /// checking it is intact.
    func backup(runID: String) throws(AgentError) -> BackupRecord {
        let directory = try backupDirectory(runID)
        if files.exists(WindowsLocations.join(directory, Self.manifestName)) {
            let record = try manifest(directory)
            try verifyCopies(record)
            // A folder an older agent made readable by everyone is narrowed (best effort: the
            // backup itself is sound).
            try? files.createOwnerOnlyDirectory(directory)
            return record
        }
        try files.createOwnerOnlyDirectory(directory)
        var saved: [BackedUpFile] = []
        for path in [installation.hsconf, installation.privateKey] {
            let data = try files.read(path)
            if let free = files.freeBytes(near: directory), free < Int64(data.count) * 2 + 1_048_576 {
                throw AgentError(.operationFailed, "not enough free space for the backup in \(directory)")
            }
            try files.writeOwnerOnly(data, to: copyPath(directory, path))
            saved.append(BackedUpFile(path: path, sha256: SHA256.hex(data), bytes: data.count, name: WindowsLocations.fileName(path)))
        }
        let record = BackupRecord(runID: runID, directory: directory, files: saved)
        try verifyCopies(record)
        do {
            try files.writeOwnerOnly(try WireCodec.recordEncoder(pretty: true).encode(record), to: WindowsLocations.join(directory, Self.manifestName))
        } catch let error as AgentError {
            throw error
        } catch {
            throw AgentError(.internalError, "cannot encode the backup manifest: \(error)")
        }
        return record
    }

    /// Writes the run's copies back over the originals (keeping the originals' permissions) and
    /// checks each by SHA-256.
    func restore(runID: String) throws(AgentError) -> BackupRecord {
        let directory = try backupDirectory(runID)
        let record = try manifest(directory)
        try verifyCopies(record)
        for file in record.files {
            let data = try files.read(copyPath(directory, file.path))
            if let current = try? files.read(file.path), SHA256.hex(current) == file.sha256 { continue }
            try files.replace(data, at: file.path)
            guard SHA256.hex(try files.read(file.path)) == file.sha256 else {
                throw AgentError(.operationFailed, "\(file.path) does not match its backup after the restore")
            }
        }
        return record
    }

    private func copyPath(_ directory: String, _ original: String) -> String {
        WindowsLocations.join(directory, String(original.split(separator: "\\").last ?? ""))
    }

    private func manifest(_ directory: String) throws(AgentError) -> BackupRecord {
        let path = WindowsLocations.join(directory, Self.manifestName)
        guard files.exists(path) else { throw AgentError(.notFound, "no backup in \(directory)") }
        do {
            return try JSONDecoder().decode(BackupRecord.self, from: try files.read(path))
        } catch let error as AgentError {
            throw error
        } catch {
            throw AgentError(.operationFailed, "the backup manifest \(path) is damaged: \(error)")
        }
    }

    private func verifyCopies(_ record: BackupRecord) throws(AgentError) {
        for file in record.files {
            let copy = copyPath(record.directory, file.path)
            guard SHA256.hex(try files.read(copy)) == file.sha256 else {
                throw AgentError(.operationFailed, "the backup copy \(copy) does not match its recorded SHA-256; not using it")
            }
        }
    }

    /// Sets Server (and Catalog when given) in the three database sections, at the byte level
    /// (every other byte of the file stays as it was), and writes the file back with its own
    /// permissions. Writes nothing when every value is already the target.
    func repoint(_ arguments: RepointArguments) throws(AgentError) -> RepointResult {
        let original = try files.read(installation.hsconf)
        var document: HsconfDocument
        do {
            document = try HsconfDocument(data: original)
        } catch {
            throw AgentError(.operationFailed, error.message)
        }
        let moving = arguments.targets.moving
        if let expected = arguments.expectedCurrentServer {
            for (section, target) in moving {
                let current = document.value(section: section.elementName, child: "Server") ?? ""
                let address = DatabaseServerAddress(current)
                guard let address, address.sameServer(as: expected) || address.sameServer(as: target.server) else {
                    throw AgentError(.operationFailed, "\(section.elementName) points at \(current), not \(expected) as expected; refusing to repoint")
                }
            }
        }
        var changes: [SettingChange] = []
        do {
            for (section, target) in moving {
                var wanted = [("Server", target.server.description)]
                if let catalog = target.catalog { wanted.append(("Catalog", catalog)) }
                for (element, value) in wanted {
                    let current = document.value(section: section.elementName, child: element)
                    guard current != value else { continue }
                    let previous = try document.setValue(section: section.elementName, child: element, to: value)
                    changes.append(SettingChange(section: section, element: element, from: previous, to: value))
                }
            }
        } catch {
            throw AgentError(.operationFailed, error.message)
        }
        let updated = document.data
        if !changes.isEmpty { try files.replace(updated, at: installation.hsconf) }
        return RepointResult(changes: changes, sha256Before: SHA256.hex(original), sha256After: SHA256.hex(updated))
    }
}
