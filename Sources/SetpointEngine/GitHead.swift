import Foundation

/// The git commit the manifests come from, when they are in a work tree (read from `.git`, no git process).
public enum GitHead {
    public static func commit(for paths: [String]) -> String? {
        guard let first = paths.first else { return nil }
        var dir = URL(fileURLWithPath: first).standardizedFileURL
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDir), !isDir.boolValue {
            dir.deleteLastPathComponent()
        }
        while dir.path != "/" {
            let head = dir.appendingPathComponent(".git/HEAD")
            if let text = try? String(contentsOf: head, encoding: .utf8) {
                let ref = text.trimmingCharacters(in: .whitespacesAndNewlines)
                guard ref.hasPrefix("ref: ") else { return ref }
                let refPath = dir.appendingPathComponent(".git/" + ref.dropFirst(5))
                if let sha = try? String(contentsOf: refPath, encoding: .utf8) {
                    return sha.trimmingCharacters(in: .whitespacesAndNewlines)
                }
                let packed =
                    (try? String(contentsOf: dir.appendingPathComponent(".git/packed-refs"), encoding: .utf8)) ?? ""
                return packed.split(separator: "\n").first { $0.hasSuffix(" " + ref.dropFirst(5)) }.map {
                    String($0.prefix(40))
                }
            }
            dir.deleteLastPathComponent()
        }
        return nil
    }
}
