import Foundation
import Testing

/// Compares text with a golden file in `Tests/<target>/__Snapshots__/`. With `SETPOINT_RECORD_SNAPSHOTS=1`
/// the file is (re)written instead. A missing golden file is written and reported as a failure, so new
/// snapshots are always reviewed before they are committed.
public func assertSnapshot(
    _ text: String,
    named name: String,
    testFile: String = #filePath,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let dir = URL(fileURLWithPath: testFile).deletingLastPathComponent().appendingPathComponent("__Snapshots__")
    let file = dir.appendingPathComponent(name)
    let recording = ProcessInfo.processInfo.environment["SETPOINT_RECORD_SNAPSHOTS"] == "1"
    let existing = FileManager.default.contents(atPath: file.path).map { String(decoding: $0, as: UTF8.self) }
    if recording || existing == nil {
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try? Data(text.utf8).write(to: file)
        if existing == nil && !recording {
            Issue.record("recorded a new snapshot \(name); review it and run again", sourceLocation: sourceLocation)
        }
        return
    }
    if existing != text {
        Issue.record(
            "snapshot \(name) differs (re-record with SETPOINT_RECORD_SNAPSHOTS=1):\n--- expected\n\(existing!)\n--- actual\n\(text)",
            sourceLocation: sourceLocation
        )
    }
}
