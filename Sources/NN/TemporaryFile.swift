import Foundation

/// The temporary files atomic writes go through: `.<name>.<host>.<pid>.tmp` beside the final file,
/// so a killed run's leftovers name the process that made them, and a later run removes only those
/// whose process is gone (a job still running, or one on another host, is never touched).
public enum TemporaryFile {
    /// The longest file name most Linux file systems take (NAME_MAX), in bytes.
    public static let nameLimit = 255

    static var host: String {
        var name = [CChar](repeating: 0, count: 256)
        guard gethostname(&name, name.count - 1) == 0 else { return "localhost" }
        return String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The temporary path this process uses for `path`.
    public static func path(for path: String) -> String {
        let url = URL(fileURLWithPath: path)
        return url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(host).\(getpid()).tmp").path
    }

    /// Why `path` cannot be written through a temporary file, or nil: a name too long for the file system.
    public static func nameProblem(_ path: String) -> String? {
        let name = URL(fileURLWithPath: path).lastPathComponent
        if name.utf8.count > nameLimit { return "the file name is \(name.utf8.count) bytes, longer than the \(nameLimit) a file system takes" }
        let temporary = URL(fileURLWithPath: self.path(for: path)).lastPathComponent
        if temporary.utf8.count > nameLimit {
            return "the file name is too long for its temporary file \(temporary) (\(temporary.utf8.count) bytes, at most \(nameLimit)); "
                + "shorten it by \(temporary.utf8.count - nameLimit) bytes"
        }
        return nil
    }

    /// Why `path` cannot be replaced by renaming a new file over it, or nil: it is empty, names a
    /// directory, or exists as something other than a regular file (a device such as /dev/full, a
    /// FIFO, a socket, or a symbolic link to one), whose node a rename would replace.
    public static func destinationProblem(_ path: String) -> String? {
        if path.isEmpty { return "the path is empty; expected a file name" }
        if path.hasSuffix("/") { return "ends in '/'; expected a file name, not a directory" }
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }   // a new file (or a dangling link, replaced)
        switch info.st_mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFDIR: return "is a directory; expected a file name"
        case S_IFCHR: return "is a character device; expected a regular file or a new file name"
        case S_IFBLK: return "is a block device; expected a regular file or a new file name"
        case S_IFIFO: return "is a FIFO; expected a regular file or a new file name"
        case S_IFSOCK: return "is a socket; expected a regular file or a new file name"
        default: return "is not a regular file; expected a regular file or a new file name"
        }
    }

    /// Removes this host's leftover temporary files of `path` whose process no longer runs; returns them.
    @discardableResult
    public static func removeStale(for path: String) -> [String] {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let prefix = ".\(url.lastPathComponent).\(host)."
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        var removed: [String] = []
        for name in names where name.hasPrefix(prefix) && name.hasSuffix(".tmp") {
            guard let pid = Int32(name.dropFirst(prefix.count).dropLast(4)), pid != getpid() else { continue }
            guard kill(pid, 0) != 0, errno == ESRCH else { continue }   // still running (or not ours to signal)
            let stale = (directory as NSString).appendingPathComponent(name)
            if (try? FileManager.default.removeItem(atPath: stale)) != nil { removed.append(stale) }
        }
        return removed
    }

    /// Flushes `directory`'s entries (a rename into it) to disk.
    static func synchronizeDirectory(of path: String) {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let descriptor = open(directory, O_RDONLY)
        guard descriptor >= 0 else { return }
        _ = fsync(descriptor)
        close(descriptor)
    }
}
