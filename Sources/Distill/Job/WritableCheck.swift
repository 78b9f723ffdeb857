import Foundation
import NN

/// Fails at once, not after hours of training, when `path` cannot be written: its directory must
/// exist and be writable, the path must be a regular file or a new name (not empty, not a directory,
/// device, FIFO or socket, which a rename would replace), its name and its temporary file's name
/// must fit the file system, and the disk must have room for `bytes` more. Removes this host's
/// leftover temporary files of `path` from killed runs. Only rank 0 writes, so only rank 0 checks
/// (a throw aborts every rank).
/// `flag` (e.g. "--output") starts the message when the path came from one.
public func checkWritable(_ path: String?, flag: String? = nil, bytes: Int = 0, isRoot: Bool) throws {
    guard isRoot, let path else { return }
    let named = (flag.map { "\($0) " } ?? "") + (path.isEmpty ? "''" : path)
    if let problem = TemporaryFile.destinationProblem(path) ?? TemporaryFile.nameProblem(path) { throw TrainingError("\(named): \(problem)") }
    let directory = (path as NSString).deletingLastPathComponent
    let folder = directory.isEmpty ? "." : directory
    var folderIsDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder, isDirectory: &folderIsDirectory), folderIsDirectory.boolValue else {
        throw TrainingError("\(named): cannot be written, directory '\(folder)' does not exist")
    }
    guard FileManager.default.isWritableFile(atPath: folder) else {
        throw TrainingError("\(named): cannot be written, directory '\(folder)' is not writable")
    }
    var space = statvfs()
    if bytes > 0, statvfs(folder, &space) == 0 {
        let free = Int(space.f_bavail) * Int(space.f_frsize)
        guard free >= 2 * bytes else {
            throw TrainingError("\(named): \(free / 1_000_000) MB free in '\(folder)', the run will write about \(bytes / 1_000_000) MB there (twice that needed while a file is replaced)")
        }
    }
    for stale in TemporaryFile.removeStale(for: path) {
        FileHandle.standardError.write(Data("removed \(stale), left by a run that was killed\n".utf8))
    }
}
