import Foundation
import SetpointCore
import SetpointTesting
import Testing

@testable import SetpointBackup

/// `BackupPolicy`'s field table: one row per schema field, and the pgBackRest options it writes read back as the
/// manifest's values.
@Suite(.timeLimit(.minutes(1))) struct BackupFieldsTests {
    struct Secrets: SecretResolver {
        func resolve(_ reference: SecretReference) throws -> String { "secret-of-\(reference)" }
    }

    static let cluster = Resource.fixture(
        .postgresCluster,
        "main",
        spec: [
            "primary": .string("main-1"),
            "members": .list([.m(["name": .string("main-1"), "port": .int(5433), "dataDirectory": .string("/srv/pg")])]
            ),
        ]
    )

    static func manifest(_ spec: [String: Value]) -> [String: Value] {
        var full: [String: Value] = [
            "cluster": .string("main"),
            "repository": .m(["path": .string("/srv/backups")]),
            "schedules": .m(["full": .string("0 1 * * 0")]),
            "retention": .m(["full": .int(3)]),
        ]
        full.merge(spec) { _, new in new }
        return full
    }

    static func settings(_ spec: [String: Value]) throws -> BackupSettings {
        let policy = Resource.fixture(.backupPolicy, "nightly", spec: manifest(spec))
        return try BackupSettings(policy, declared: [cluster.id: cluster], secrets: Secrets())
    }

    static func at(_ value: Value, _ keys: [String]) -> Value? {
        keys.reduce(Optional(value)) { $0?[$1] }
    }

    @Test func everySchemaFieldHasExactlyOneRow() {
        let coverage = BackupFields.table.coverage(of: BackupPolicyKind.spec)
        #expect(coverage.missing.isEmpty, "fields without a row: \(coverage.missing)")
        #expect(coverage.unknown.isEmpty, "rows without a field: \(coverage.unknown)")
        #expect(coverage.duplicated.isEmpty, "fields with two rows: \(coverage.duplicated)")
    }

    /// What the rows write reads back, through the file's text, as the manifest wrote it.
    @Test(arguments: [
        [String: Value](),
        [
            "repository": .m([
                "path": .string("/bucket/prefix"), "type": .string("s3"),
                "s3": .m([
                    "bucket": .string("b"), "endpoint": .string("s3.example.net"), "region": .string("eu-1"),
                    "keyId": .secret(.env("S3_ID")), "key": .secret(.env("S3_KEY")),
                ]),
            ]),
            "retention": .m(["window": .int(30 * 86_400_000)]),
            "compression": .string("zst"),
            "encryption": .m(["cipher": .string("aes-256-cbc"), "passphrase": .secret(.env("PASS"))]),
        ],
    ])
    func writtenOptionsReadBackAsTheManifest(spec: [String: Value]) throws {
        let s = try Self.settings(spec)
        let text = PgBackRestConfig.render(s, socketDirectory: "/run/postgresql")
        let global = try #require(PgBackRestConfig.parse(text)["global"])
        let observed = BackupFields.observed(global: global)
        // What Setpoint writes when the manifest leaves a field out.
        let written: [String: Value] = ["repository.type": .string("posix"), "compression": .string("lz4")]
        // Where logs go is written, never read back (it is no state of the backups, and not compared).
        #expect(text.contains("log-path=/var/log/pgbackrest\n"))
        #expect(BackupFields.observed(global: global)["logDirectory"] == nil)
        let desired = Value.map(Self.manifest(spec))
        var compared = 0
        for row in BackupFields.table.rows {
            guard case .options = row.mapping else { continue }
            let want = Self.at(desired, row.pattern) ?? written[row.path]
            #expect(Self.at(.map(observed), row.pattern) == want, "\(row.path) in\n\(text)")
            if want != nil { compared += 1 }
        }
        #expect(compared >= 4)
        // Secrets go to the include file only, never into the configuration.
        #expect(!text.contains("secret-of"))
        let include = PgBackRestConfig.renderSecrets(s)
        #expect((include ?? "").contains("secret-of") == (s.passphrase != nil || s.s3Key != nil))
    }

    @Test func theRetentionKindFollowsTheFieldGiven() throws {
        let count = PgBackRestConfig.render(try Self.settings([:]), socketDirectory: nil)
        #expect(count.contains("repo1-retention-full-type=count\nrepo1-retention-full=3\n"))
        let time = PgBackRestConfig.render(
            try Self.settings(["retention": .m(["window": .int(7 * 86_400_000)])]),
            socketDirectory: nil
        )
        #expect(time.contains("repo1-retention-full-type=time\nrepo1-retention-full=7\n"))
    }

    @Test func thePolicyComesFromTheRows() {
        let policy = BackupFields.policy
        #expect(policy.rule(for: FieldPath([.key("schedules"), .key("full")]))?.comparison == .ignore)
        let retention = policy.rule(for: FieldPath([.key("retention"), .key("full")]))
        #expect(retention?.reason?.contains("repo1-retention-full") == true)
        #expect(policy.rule(for: FieldPath([.key("encryption"), .key("passphrase")]))?.comparison == .ignore)
    }
}
