import Foundation
import SetpointCore
import SetpointExec
import SetpointRemote
import SetpointTesting
import Testing

@testable import SetpointBackup

/// pgBackRest's TLS-server layout as Setpoint writes it: which host holds what, and a spread policy without
/// certificates refused.
@Suite(.timeLimit(.minutes(1))) struct BackupLayoutTests {
    static let cluster = Resource.fixture(
        .postgresCluster,
        "main",
        spec: [
            "primary": .string("pg-1"),
            "members": .list([
                .m(["name": .string("pg-1"), "runsOn": .string("db-1"), "dataDirectory": .string("/srv/pg")]),
                .m([
                    "name": .string("pg-2"), "runsOn": .string("db-2"), "port": .int(5433),
                    "dataDirectory": .string("/srv/pg2"),
                ]),
                // No data directory: not one of pgBackRest's pgN.
                .m(["name": .string("pg-3"), "host": .string("10.0.0.9")]),
            ]),
        ]
    )

    static func host(_ name: String, _ address: String) -> Resource {
        Resource.fixture(
            .host,
            name,
            spec: [
                "address": .string(address),
                "ssh": .m(["user": .string("setpoint"), "hostKeys": .list([.string("ssh-ed25519 AAAA")])]),
            ]
        )
    }

    static func settings(tls: Bool = true) throws -> BackupSettings {
        var spec: [String: Value] = [
            "cluster": .string("main"),
            "repository": .m(["path": .string("/srv/backups"), "runsOn": .string("repo-1")]),
            "schedules": .m(["full": .string("0 1 * * 0")]),
            "retention": .m(["full": .int(3)]),
            "encryption": .m(["cipher": .string("aes-256-cbc"), "passphrase": .secret(.env("PASS"))]),
        ]
        if tls {
            spec["tls"] = .m([
                "ca": .secret(.env("CA")), "certificate": .secret(.env("CERT")), "key": .secret(.env("KEY")),
                "port": .int(8500),
            ])
        }
        let policy = Resource.fixture(.backupPolicy, "nightly", spec: spec)
        var declared = [cluster.id: cluster, policy.id: policy]
        for h in [host("db-1", "10.0.0.1"), host("db-2", "10.0.0.2"), host("repo-1", "10.0.0.3")] { declared[h.id] = h }
        return try BackupSettings(policy, declared: declared, secrets: BackupFieldsTests.Secrets())
    }

    static func access(_ name: String, _ address: String) -> HostAccess {
        HostAccess(host: name, address: address, runner: LocalRunner(), files: LocalFiles())
    }

    static func layout() throws -> BackupHosts {
        let s = try settings()
        let repo = access("repo-1", "10.0.0.3")
        let db1 = access("db-1", "10.0.0.1")
        return BackupHosts(
            settings: s,
            repository: repo,
            primary: db1,
            places: [
                .init(access: repo, role: .repository),
                .init(access: db1, role: .database(s.cluster.members[0])),
                .init(access: access("db-2", "10.0.0.2"), role: .database(s.cluster.members[1])),
            ]
        )
    }

    static func config(_ place: BackupHosts.Place, _ hosts: BackupHosts) -> [String: [String: String]] {
        PgBackRestConfig.parse(
            PgBackRestConfig.render(hosts.settings, socketDirectory: "/run/pg", place: place, hosts: hosts)
        )
    }

    @Test func theRepositoryHostReachesEveryMemberWithADataDirectoryThroughItsServer() throws {
        let hosts = try Self.layout()
        let repo = Self.config(hosts.places[0], hosts)
        #expect(repo["global"]?["repo1-path"] == "/srv/backups")
        #expect(repo["global"]?["tls-server-port"] == "8500")
        #expect(repo["global"]?["tls-server-auth"] == "pgbackrest-client=nightly")
        let stanza = repo["nightly"] ?? [:]
        #expect(stanza["pg1-host"] == "10.0.0.1" && stanza["pg1-path"] == "/srv/pg")
        #expect(stanza["pg2-host"] == "10.0.0.2" && stanza["pg2-port"] == "5433" && stanza["pg2-path"] == "/srv/pg2")
        #expect(stanza["pg2-host-type"] == "tls" && stanza["pg2-host-config"] == hosts.settings.configFile)
        #expect(stanza["pg3-host"] == nil, "a member without a data directory is not pgBackRest's")
        // The socket folder is the member's own host's business.
        #expect(stanza["pg1-socket-path"] == nil)
    }

    @Test func aDatabaseHostKeepsItsOwnDataDirectoryAndReachesTheRepositoryHost() throws {
        let hosts = try Self.layout()
        let db2 = Self.config(hosts.places[2], hosts)
        #expect(db2["global"]?["repo1-host"] == "10.0.0.3")
        #expect(db2["global"]?["repo1-host-port"] == "8500")
        #expect(db2["global"]?["repo1-path"] == nil, "the repository's options live on its host")
        #expect(db2["global"]?["repo1-cipher-type"] == nil)
        #expect(db2["global"]?["tls-server-cert-file"] == "\(hosts.settings.tlsDirectory)/host.crt")
        #expect(db2["nightly"]?["pg1-path"] == "/srv/pg2" && db2["nightly"]?["pg1-port"] == "5433")
        #expect(db2["nightly"]?["pg1-socket-path"] == "/run/pg")
    }

    @Test func aRestoreHostIsAClientWithoutAServer() throws {
        let hosts = try Self.layout()
        let client = Self.config(BackupHosts.Place(access: Self.access("restore-1", "10.0.0.7"), role: .client), hosts)
        #expect(client["global"]?["repo1-host"] == "10.0.0.3")
        #expect(client["global"]?["tls-server-port"] == nil)
        #expect(client["nightly"] == nil)
    }

    @Test func theSecretsAndCertificatesGoWhereTheyAreRead() throws {
        let hosts = try Self.layout()
        func files(_ i: Int) -> [String: String?] {
            Dictionary(
                uniqueKeysWithValues: PlacedFiles(place: hosts.places[i], settings: hosts.settings, hosts: hosts)
                    .files(socketDirectory: nil).map { ($0.path, $0.text) }
            )
        }
        let secret = hosts.settings.secretFile
        #expect((files(0)[secret] ?? nil)?.contains("repo1-cipher-pass=secret-of-") == true)
        #expect(files(1)[secret] == .some(nil), "no passphrase on a database host")
        #expect((files(1)["\(hosts.settings.tlsDirectory)/host.key"] ?? nil)?.hasPrefix("secret-of-") == true)
        // A changed certificate changes the digest the server started with: it is restarted.
        let placed = PlacedFiles(place: hosts.places[1], settings: hosts.settings, hosts: hosts)
        var other = hosts.settings
        other.tls?.certificate = "another"
        let changed = PlacedFiles(
            place: hosts.places[1],
            settings: other,
            hosts: hosts
        )
        #expect(placed.digest(socketDirectory: nil) != changed.digest(socketDirectory: nil))
    }

    @Test func aPolicySpreadOverHostsWithoutCertificatesIsRefused() throws {
        #expect {
            _ = try Self.settings(tls: false)
        } throws: { error in
            "\(error)".contains("Host/repo-1") && "\(error)".contains("needs spec.tls")
        }
    }
}
