import Foundation
import SetpointCore
public import SetpointYAML

/// Loads manifests from files and folders: reads YAML with positions, decodes every `setpoint/v1` document
/// against its kind's schema, then checks the set as a whole (duplicates, references, cycles).
///
/// ```swift
/// let set = ManifestLoader().load(paths: ["manifests/"])
/// if !set.isValid { print(set.diagnostics) }
/// ```
public struct ManifestLoader: Sendable {
    public var limits: LoaderLimits

    public init(limits: LoaderLimits = .default) {
        self.limits = limits
    }

    /// Loads files and folders (recursively, `*.yaml` and `*.yml`; hidden folders are skipped).
    public func load(paths: [String]) -> ManifestSet {
        var diagnostics: [Diagnostic] = []
        let files = ManifestFiles.collect(paths, diagnostics: &diagnostics)
        var sources: [(file: String, bytes: [UInt8])] = []
        for file in files {
            switch ManifestFiles.read(file, limit: limits.maxFileSize) {
            case .bytes(let bytes): sources.append((file, bytes))
            case .failed(let d): diagnostics.append(d)
            }
        }
        var set = decode(sources)
        set.diagnostics.append(contentsOf: diagnostics)
        set.diagnostics.sort(by: Diagnostic.reportingOrder)
        set.files = files
        return set
    }

    /// Loads YAML text as if read from `file` (for tests and stdin).
    public func load(text: String, file: String) -> ManifestSet {
        let bytes = Array(text.utf8)
        if bytes.count > limits.maxFileSize {
            return ManifestSet(
                diagnostics: [ManifestFiles.tooLarge(file, size: bytes.count, limit: limits.maxFileSize)],
                files: [file]
            )
        }
        var set = decode([(file, bytes)])
        set.diagnostics.sort(by: Diagnostic.reportingOrder)
        set.files = [file]
        return set
    }

    /// Size of the parts a large file is split into (at document starts) so that one big file uses every core.
    static let chunkSize = 256 << 10

    func decode(_ sources: [(file: String, bytes: [UInt8])]) -> ManifestSet {
        // Files, and parts of large files, are independent until the cross-document checks: decode in parallel.
        var work: [(source: Int, range: Range<Int>, firstLine: Int)] = []
        for (i, source) in sources.enumerated() {
            for part in YAMLChunks.split(source.bytes, target: Self.chunkSize) {
                work.append((i, part.range, part.firstLine))
            }
        }
        let results = ParallelMap.map(work) { item -> FileResult in
            let source = sources[item.source]
            var diagnostics: [Diagnostic] = []
            let read = YAMLReader(limits: limits).read(
                source.bytes,
                range: item.range,
                firstLine: item.firstLine,
                file: source.file,
                diagnostics: &diagnostics
            )
            var decoder = DocumentDecoder(file: source.file)
            var declarations: [DocumentDecoder.Declaration] = []
            declarations.reserveCapacity(read.documents.count)
            for document in read.documents {
                if let d = decoder.decode(document) { declarations.append(d) }
            }
            return FileResult(
                declarations: declarations,
                diagnostics: diagnostics + decoder.diagnostics,
                skipped: decoder.skipped,
                syntaxError: read.syntaxError
            )
        }
        var set = ManifestSet()
        var declarations: [DocumentDecoder.Declaration] = []
        var stoppedSource: Int?
        for (item, r) in zip(work, results) {
            // A syntax error ends its file, as if the file had been read in one piece: drop the parts after it.
            if stoppedSource == item.source { continue }
            declarations.append(contentsOf: r.declarations)
            set.diagnostics.append(contentsOf: r.diagnostics)
            set.skippedDocuments += r.skipped
            if r.syntaxError { stoppedSource = item.source }
        }
        let checked = SetChecks.run(declarations)
        set.resources = checked.resources
        set.diagnostics.append(contentsOf: checked.diagnostics)
        return set
    }

    struct FileResult: Sendable {
        var declarations: [DocumentDecoder.Declaration]
        var diagnostics: [Diagnostic]
        var skipped: Int
        var syntaxError: Bool = false
    }
}

/// Runs a transform over items on all cores, keeping order.
enum ParallelMap {
    static func map<T: Sendable, R: Sendable>(_ items: [T], _ transform: @Sendable (T) -> R) -> [R] {
        guard items.count > 1 else { return items.map(transform) }
        let results = ResultSlots<R>(count: items.count)
        DispatchQueue.concurrentPerform(iterations: items.count) { i in
            results.set(i, transform(items[i]))
        }
        return results.values
    }

    final class ResultSlots<R>: @unchecked Sendable {
        private var slots: [R?]
        private let lock = NSLock()
        init(count: Int) { slots = Array(repeating: nil, count: count) }
        func set(_ i: Int, _ value: R) {
            lock.lock()
            slots[i] = value
            lock.unlock()
        }
        var values: [R] { slots.map { $0! } }
    }
}
