import Foundation
public import SetpointCore

/// Finding and reading manifest files.
public enum ManifestFiles {
    /// Expands paths into manifest files: a file is taken as given, a folder is searched recursively for
    /// `*.yaml` and `*.yml` (hidden entries skipped), sorted for a stable order. Duplicates are dropped.
    public static func collect(_ paths: [String], diagnostics: inout [Diagnostic]) -> [String] {
        var files: [String] = []
        var seen: Set<String> = []
        let fm = FileManager.default
        for path in paths {
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else {
                diagnostics.append(
                    Diagnostic(
                        .error,
                        .unreadableFile,
                        "no such file or folder: \(path)",
                        hint: "check the path; folders are searched recursively for *.yaml and *.yml"
                    )
                )
                continue
            }
            if !isDirectory.boolValue {
                if seen.insert(path).inserted { files.append(path) }
                continue
            }
            var found: [String] = []
            let base = path.hasSuffix("/") ? String(path.dropLast()) : path
            if let e = fm.enumerator(atPath: path) {
                while let rel = e.nextObject() as? String {
                    let name = (rel as NSString).lastPathComponent
                    if name.hasPrefix(".") {
                        e.skipDescendants()
                        continue
                    }
                    guard name.hasSuffix(".yaml") || name.hasSuffix(".yml") else { continue }
                    let full = base + "/" + rel
                    var dir: ObjCBool = false
                    if fm.fileExists(atPath: full, isDirectory: &dir), !dir.boolValue { found.append(full) }
                }
            }
            if found.isEmpty {
                diagnostics.append(
                    Diagnostic(
                        .warning,
                        .noManifests,
                        "no *.yaml or *.yml files in \(path)",
                        hint: "manifests must end in .yaml or .yml",
                        at: nil
                    )
                )
            }
            for f in found.sorted() where seen.insert(f).inserted { files.append(f) }
        }
        return files
    }

    /// Reads a file, refusing it when larger than `limit` bytes.
    public static func read(_ file: String, limit: Int) -> ReadResult {
        let fm = FileManager.default
        if let attributes = try? fm.attributesOfItem(atPath: file), let size = attributes[.size] as? Int, size > limit {
            return .failed(tooLarge(file, size: size, limit: limit))
        }
        guard let data = fm.contents(atPath: file) else {
            return .failed(
                Diagnostic(.error, .unreadableFile, "cannot read \(file)", hint: "check that it exists and is readable")
            )
        }
        if data.count > limit { return .failed(tooLarge(file, size: data.count, limit: limit)) }
        return .bytes([UInt8](data))
    }

    /// A file's bytes, or why it was not read.
    public enum ReadResult: Sendable {
        case bytes([UInt8])
        case failed(Diagnostic)
    }

    static func tooLarge(_ file: String, size: Int, limit: Int) -> Diagnostic {
        Diagnostic(
            .error,
            .fileTooLarge,
            "file is \(size) bytes, over the limit of \(limit) bytes",
            hint: "split it into several files (a folder is read recursively), or raise --max-file-size",
            at: SourceLocation(file: file, line: 1, column: 1)
        )
    }
}
