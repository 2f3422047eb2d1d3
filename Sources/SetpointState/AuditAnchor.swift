import Foundation
public import SetpointCore
import SetpointExec

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
            throw SetpointError(
                .stateFailed,
                "the audit anchor \(path) is not an anchor Setpoint wrote (\(error)): it was edited or replaced"
            )
        }
        if let key {
            guard let signature = point.signature,
                HMACSHA256.constantTimeEquals(signature, point.signed(with: key).signature ?? "")
            else {
                throw SetpointError(
                    .stateFailed,
                    "the audit anchor \(path) does not verify with the anchor key: it was edited "
                        + (point.signature == nil ? "(it is unsigned)" : "(its signature differs)")
                )
            }
        }
        return point
    }

    /// Moves the anchor to `record` (its seq, hash and time) when it is ahead of the anchor's point (another process may
    /// have moved it further). The file is read and checked under the lock as ``read()`` does: an anchor that does
    /// not verify is never moved on by an append — that would hide what was done to it.
    /// - Throws: `SetpointError(.stateFailed, …)` when the file cannot be read, verified or written.
    public func advance(to record: AuditRecord, state: String) throws {
        try locked {
            if let current = try read(), current.seq >= record.seq { return }
            try write(
                Point(state: state, seq: record.seq, hash: record.hash, time: record.entry.time).signed(with: key)
            )
        }
    }

    /// Sets the anchor to `record` whatever it said, even a file that does not verify: after an operator acknowledged a
    /// break (records missing from the end, an anchor edited or lost).
    public func reset(to record: AuditRecord, state: String) throws {
        try locked {
            try write(
                Point(state: state, seq: record.seq, hash: record.hash, time: record.entry.time).signed(with: key)
            )
        }
    }

    /// Runs `body` under an exclusive lock on `PATH.lock`, which every process sharing the anchor takes.
    private func locked(_ body: () throws -> Void) throws {
        let lockPath = path + ".lock"
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw failure("cannot open its lock file \(lockPath): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw failure("cannot lock \(lockPath): \(String(cString: strerror(errno)))") }
        }
        defer { flock(fd, LOCK_UN) }
        try body()
    }

    private func write(_ point: Point) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let text = String(decoding: try encoder.encode(point), as: UTF8.self) + "\n"
        do { try AtomicFile.write(text, to: path, mode: 0o600, private: true) } catch { throw failure("\(error)") }
    }

    private func failure(_ what: String) -> SetpointError {
        SetpointError(.stateFailed, "the audit anchor \(path): \(what)")
    }
}
