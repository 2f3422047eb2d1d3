import Foundation
public import SetpointCore

/// A plan saved by `plan --out` and applied by `apply FILE`: the plan, and what was observed of every resource it
/// touches (to name the fields that moved when it goes stale).
public struct SavedPlan: Sendable, Codable {
    public var plan: Plan
    public var observed: [ResourceID: Observation]

    public init(plan: Plan, observed: [ResourceID: Observation]) {
        self.plan = plan
        self.observed = observed
    }
}

/// The plan file: one header line `{"format":"setpoint-plan/v1","digest":…,"hmac":…}` then the plan as JSON.
/// The digest covers the plan's bytes exactly as written, so any edit is detected; with a signing key, the HMAC
/// also detects an edit whose digest was recomputed.
public enum SavedPlanFile {
    public static let format = "setpoint-plan/v1"

    struct Header: Codable {
        var format: String
        var digest: String
        var hmac: String?
    }

    /// Why a plan file was refused; `isTampering` (exit 3) when its content does not match its digest or signature.
    public struct Refusal: Error, CustomStringConvertible, Sendable {
        public var description: String
        public var isTampering: Bool
    }

    /// True when `path` looks like a plan file, even one whose header was damaged (so it is refused as a plan file,
    /// not read as YAML).
    public static func looksLikePlanFile(_ path: String) -> Bool {
        if isPlanFile(path) { return true }
        guard let data = head(of: path) else { return false }
        let text = String(decoding: data, as: UTF8.self)
        return text.hasPrefix("{") && text.contains(format)
    }

    /// True when `path` is a file whose first line is a plan file header.
    public static func isPlanFile(_ path: String) -> Bool {
        guard let data = head(of: path) else { return false }
        let head = [UInt8](data)
        guard let newline = head.firstIndex(of: UInt8(ascii: "\n")),
            let header = try? JSONDecoder().decode(Header.self, from: Data(head[..<newline]))
        else { return false }
        return header.format == format
    }

    /// The first KiB of a regular file; nil for folders and unreadable paths.
    private static func head(of path: String) -> Data? {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), !isFolder.boolValue,
            let handle = FileHandle(forReadingAtPath: path)
        else { return nil }
        defer { try? handle.close() }
        return try? handle.read(upToCount: 1024)
    }

    public static func encode(_ saved: SavedPlan, signingKey: [UInt8]?) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = try encoder.encode(saved)
        let header = Header(
            format: format,
            digest: "sha256:" + SHA256.hexString(SHA256.hash(body)),
            hmac: signingKey.map { HMACSHA256.hex(Array(body), key: $0) }
        )
        var data = try encoder.encode(header)
        data.append(UInt8(ascii: "\n"))
        data.append(body)
        data.append(UInt8(ascii: "\n"))
        return data
    }

    public static func decode(_ data: Data, path: String, signingKey: [UInt8]?) throws -> SavedPlan {
        let bytes = [UInt8](data)
        guard let newline = bytes.firstIndex(of: UInt8(ascii: "\n")),
            let header = try? JSONDecoder().decode(Header.self, from: Data(bytes[..<newline])), header.format == format
        else {
            let head = String(decoding: bytes.prefix(1024), as: UTF8.self)
            if head.contains(format) {
                throw Refusal(description: "\(path) was edited: its header cannot be read", isTampering: true)
            }
            throw Refusal(description: "\(path) is not a Setpoint plan file (\(format))", isTampering: false)
        }
        var body = Array(bytes[(newline + 1)...])
        if body.last == UInt8(ascii: "\n") { body.removeLast() }
        guard "sha256:" + SHA256.hexString(SHA256.hash(body)) == header.digest else {
            throw Refusal(description: "\(path) was edited: its content does not match its digest", isTampering: true)
        }
        switch (header.hmac, signingKey) {
        case (let mac?, let key?):
            guard HMACSHA256.constantTimeEquals(mac, HMACSHA256.hex(body, key: key)) else {
                throw Refusal(
                    description: "\(path) was edited or signed with another key: its signature does not match",
                    isTampering: true
                )
            }
        case (_?, nil):
            throw Refusal(
                description: "\(path) is signed: give the key with --sign-key to verify it",
                isTampering: false
            )
        case (nil, _?):
            throw Refusal(
                description: "\(path) is not signed, but a signing key was given: plan again with --sign-key",
                isTampering: true
            )
        case (nil, nil):
            break
        }
        do {
            return try JSONDecoder().decode(SavedPlan.self, from: Data(body))
        } catch {
            throw Refusal(description: "\(path) cannot be read as a plan: \(error)", isTampering: false)
        }
    }
}
