import Foundation

/// Directories and files owned by the cluster's OS user (pgBackRest runs as that user, inside the postmaster too).
enum OwnedPaths {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func ids(_ user: String) throws -> (uid_t, gid_t) {
        guard let pw = getpwnam(user) else {
            throw Failure(description: "no OS user \(user) on this machine (spec.osUser of the cluster)")
        }
        return (pw.pointee.pw_uid, pw.pointee.pw_gid)
    }

    /// Creates `path` and its missing parents; the new leaf (and, with `ownParents`, new parents) belong to `user`.
    /// An existing directory keeps its owner and mode.
    static func directory(_ path: String, user: String?, mode: mode_t) throws {
        var missing: [String] = []
        var p = path
        while !p.isEmpty, p != "/", !FileManager.default.fileExists(atPath: p) {
            missing.append(p)
            p = (p as NSString).deletingLastPathComponent
        }
        for d in missing.reversed() {
            guard mkdir(d, 0o755) == 0 || errno == EEXIST else {
                throw Failure(description: "cannot create \(d): \(String(cString: strerror(errno)))")
            }
        }
        guard missing.first == path else { return }
        chmod(path, mode)
        if let user {
            let (uid, gid) = try ids(user)
            guard chown(path, uid, gid) == 0 else {
                throw Failure(description: "cannot chown \(path) to \(user): \(String(cString: strerror(errno)))")
            }
        }
    }

    static func chownFile(_ path: String, user: String, mode: mode_t) throws {
        let (uid, gid) = try ids(user)
        guard chown(path, uid, gid) == 0, chmod(path, mode) == 0 else {
            throw Failure(description: "cannot set the owner and mode of \(path): \(String(cString: strerror(errno)))")
        }
    }
}
