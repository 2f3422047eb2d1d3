import Foundation

/// Paths inside this repository, for tests that read committed fixtures (examples/, manifests/, schemas/).
public enum RepoPaths {
    /// The repository root, found from this source file's location.
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A path under the root, as a string.
    public static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }
}
