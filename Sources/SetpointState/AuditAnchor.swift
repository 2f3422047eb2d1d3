import Foundation
public import SetpointCore

/// The audit log's head, kept where the state is not (`--audit-anchor FILE`): every append moves it to the new
/// record's seq and hash, so records cut off the end of the log — or a state file deleted or replaced by an older
/// copy — are detected, which the chain alone cannot show (a shorter chain is still intact).
///
/// The file is one JSON object, replaced atomically (temporary file, fsync, rename) under an exclusive lock so
/// several processes on a host can share it, and it only moves forward:
///
/// ```json
/// {"formatVersion":1,"hash":"sha256:…","seq":1042,"signature":"hmac-sha256:…","state":".setpoint/state.db","time":"2026-12-07T12:00:00.000Z"}
/// ```
///
/// With a key (`--anchor-key`), the anchor carries an HMAC-SHA256 over its fields: an anchor edited to match a
/// shortened log no longer verifies.
public final class AuditAnchor: Sendable {
    /// What the file says.
    public struct Point: Sendable, Equatable, Codable {
        public var formatVersion = 1
        public var state: String
        public var seq: Int64
        public var hash: String
        public var time: String
        public var signature: String?

        public var head: AuditHead { AuditHead(seq: seq, hash: hash) }

        func signed(with key: [UInt8]?) -> Point {
            var p = self
            p.signature = key.map { HMACSHA256.hex(Array(p.signedText.utf8), key: $0) }
            return p
        }

        var signedText: String { "setpoint-audit-anchor/v1\n\(state)\n\(seq)\n\(hash)\n\(time)" }
    }

    public let path: String
    /// The HMAC key that signs the anchor and `audit-break` acknowledgments (nil: unsigned).
    public let key: [UInt8]?

    /// - Parameters:
    ///   - path: The anchor file; its folder must exist.
    ///   - key: The HMAC key that signs it (nil: unsigned).
    public init(path: String, key: [UInt8]?) {
        self.path = path
        self.key = key
    }

    /// The anchor, or nil when the file does not exist yet.
    /// - Throws: `SetpointError(.stateFailed, …)` when it cannot be read, is not an anchor, or its signature does not
    ///   verify (or it is unsigned while a key is configured).
    public func read() throws -> Point? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SetpointError(.stateFailed, "cannot read the audit anchor \(path): check its permissions")
        }
        let point: Point
        do { point = try JSONDecoder().decode(Point.self, from: data) } catch {
            throw SetpointError(.stateFailed, "the audit anchor \(path) is not an anchor Setpoint wrote (\(error)): it was edited or replaced")
        }
        if let key {
            guard let signature = point.signature, HMACSHA256.constantTimeEquals(signature, point.signed(with: key).signature ?? "") else {
                throw SetpointError(.stateFailed, "the audit anchor \(path) does not verify with the anchor key: it was edited "
                    + (point.signature == nil ? "(it is unsigned)" : "(its signature differs)"))
            }
        }
        return point
    }

    /// Moves the anchor to `record` when it is ahead of the anchor's point (another process may have moved it further).
    /// - Throws: `SetpointError(.stateFailed, …)` when the file cannot be written.
    public func advance(to record: AuditRecord, state: String, time: String) throws {
        try locked { current in
            if let current, current.seq >= record.seq { return current }
            return Point(state: state, seq: record.seq, hash: record.hash, time: time).signed(with: key)
        }
    }

    /// Sets the anchor to `head` whatever it said: after an operator acknowledged records missing from the end.
    public func reset(to head: AuditHead, state: String, time: String) throws {
        try lockedReset(Point(state: state, seq: head.seq, hash: head.hash, time: time).signed(with: key))
    }

    /// Reads the file under an exclusive lock (`PATH.lock`), writes what `next` returns when it differs, and remembers it.
    private func locked(_ next: (Point?) throws -> Point) throws {
        try withLock { try lockedBody(next) }
    }

    private func lockedBody(_ next: (Point?) throws -> Point) throws {
        // Under the lock the file is read and checked as `read()` does: an anchor that does not verify is never moved
        // on (or replaced) by an append — that would hide what was done to it.
        let current = try read()
        let point = try next(current)
        if point != current { try write(point) }
    }

    /// ``reset(to:state:time:)`` reads the file without the key check: an acknowledgment replaces even a bad anchor.
    private func lockedReset(_ point: Point) throws {
        try withLock { try write(point) }
    }

    private func withLock(_ body: () throws -> Void) throws {
        let lockPath = path + ".lock"
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw failure("cannot open its lock file \(lockPath)", errno) }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw failure("cannot lock \(lockPath)", errno) }
        }
        defer { flock(fd, LOCK_UN) }
        try body()
    }

    private func write(_ point: Point) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(point) + Data("\n".utf8)
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw failure("cannot write \(temporary)", errno) }
        let written = data.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        guard written == data.count, synced == 0, rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw failure("cannot replace it", code)
        }
        let folder = (path as NSString).deletingLastPathComponent
        let dir = open(folder.isEmpty ? "." : folder, O_RDONLY | O_CLOEXEC)
        if dir >= 0 {
            fsync(dir)
            close(dir)
        }
    }

    private func failure(_ what: String, _ code: Int32) -> SetpointError {
        SetpointError(.stateFailed, "the audit anchor \(path): \(what): \(String(cString: strerror(code)))")
    }
}
