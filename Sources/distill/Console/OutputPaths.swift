import Foundation

/// Fails at once, not after hours of training, when `path` cannot be written: its directory must
/// exist and be writable. Only rank 0 writes, so only rank 0 checks (a throw aborts every rank).
func checkWritable(_ path: String?, isRoot: Bool) throws {
    guard isRoot, let path else { return }
    let directory = (path as NSString).deletingLastPathComponent
    let folder = directory.isEmpty ? "." : directory
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
        throw CommandError("\(path): cannot be written, directory '\(folder)' does not exist")
    }
    guard FileManager.default.isWritableFile(atPath: folder) else {
        throw CommandError("\(path): cannot be written, directory '\(folder)' is not writable")
    }
}
