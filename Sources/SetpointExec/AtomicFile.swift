import Foundation

/// Replacing a file so that readers see the old content or the new, never a part: a temporary file in the same
/// directory, fsync, rename, fsync of the directory. (Foundation's atomic writes leave a temporary directory behind in /tmp on Linux.)
public enum AtomicFile {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// - Parameters:
    ///   - mode: for a new file; a replaced file keeps its owner, group and mode.
    ///   - private: the file holds secrets: no permission for others, whatever the replaced file had.
    public static func write(_ text: String, to path: String, mode: mode_t = 0o644, private: Bool = false) throws {
        let temporary = path + ".setpoint-tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else {
            throw Failure(description: "cannot write \(temporary): \(String(cString: strerror(errno)))")
        }
        var st = stat()
        if stat(path, &st) == 0 {
            _ = fchown(fd, st.st_uid, st.st_gid)
            fchmod(fd, st.st_mode & (`private` ? 0o7770 : 0o7777))
        } else {
            fchmod(fd, `private` ? mode & 0o770 : mode)
        }
        let bytes = Array(text.utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes[done...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else {
                let why = String(cString: strerror(errno))
                close(fd)
                unlink(temporary)
                throw Failure(description: "cannot write \(temporary): \(why)")
            }
            done += n
        }
        fsync(fd)
        close(fd)
        guard rename(temporary, path) == 0 else {
            let why = String(cString: strerror(errno))
            unlink(temporary)
            throw Failure(description: "cannot replace \(path): \(why)")
        }
        // The rename itself reaches the disk with the folder's entry.
        let folder = (path as NSString).deletingLastPathComponent
        let dir = open(folder.isEmpty ? "." : folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dir >= 0 {
            fsync(dir)
            close(dir)
        }
    }
}
