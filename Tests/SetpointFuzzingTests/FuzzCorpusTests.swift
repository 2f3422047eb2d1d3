import Foundation
import SetpointFuzzing
import SetpointTesting
import Testing

/// Every committed fuzz corpus file — the seeds and every input a fuzzer kept, crashes it found among them — goes
/// through its target in an ordinary test, so CI proves they still pass without building the fuzzers (scripts/fuzz).
@Suite(.timeLimit(.minutes(5))) struct FuzzCorpusTests {
    /// The corpus of a target, and for `yaml` the manifests the project ships and tests with (its seeds).
    static func inputs(_ target: String) throws -> [String] {
        var folders = [RepoPaths.path("Fuzz/Corpus/\(target)")]
        if target == "yaml" {
            folders += ["examples", "manifests", "Tests/SetpointManifestTests/Corpus"].map(RepoPaths.path)
        }
        var files: [String] = []
        for folder in folders {
            let walker = try #require(FileManager.default.enumerator(atPath: folder), "\(folder) is missing")
            for case let name as String in walker {
                var isFolder: ObjCBool = false
                if FileManager.default.fileExists(atPath: folder + "/" + name, isDirectory: &isFolder),
                    !isFolder.boolValue
                {
                    files.append(folder + "/" + name)
                }
            }
        }
        return files.sorted()
    }

    /// The inputs run on a thread of their own: seconds of parsing on Swift's cooperative pool (two threads here)
    /// would stall every other test's tasks, timing-sensitive ones among them.
    @Test(arguments: FuzzTargets.names)
    func everyCorpusInputRunsThroughItsTarget(_ target: String) async throws {
        let files = try Self.inputs(target)
        #expect(files.count >= 5, "\(target) has a corpus")
        let unreadable = await withCheckedContinuation { (done: CheckedContinuation<[String], Never>) in
            let thread = Thread {
                var unreadable: [String] = []
                for file in files {
                    guard let data = FileManager.default.contents(atPath: file) else {
                        unreadable.append(file)
                        continue
                    }
                    FuzzTargets.runBlocking(target, data)
                }
                done.resume(returning: unreadable)
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        #expect(unreadable.isEmpty, "\(unreadable)")
    }
}
