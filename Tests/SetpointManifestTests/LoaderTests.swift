import Foundation
import SetpointCore
import SetpointManifest
import SetpointTesting
import SetpointYAML
import Testing

@Suite(.timeLimit(.minutes(2))) struct LoaderTests {
    static let cluster = """
        apiVersion: setpoint/v1
        kind: ProxmoxCluster
        metadata: {name: pve}
        spec:
          endpoints: ["https://pve1:8006"]
          tokenId: "setpoint@pve!ci"
          tokenSecret: {env: PVE_TOKEN}

        """

    func tempDir() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("setpoint-loader-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func readsFoldersRecursivelySkippingHiddenAndOtherFiles() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir + "/nested/deeper", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: dir + "/.hidden", withIntermediateDirectories: true)
        try Self.cluster.write(toFile: dir + "/nested/deeper/cluster.yml", atomically: true, encoding: .utf8)
        let pool = "apiVersion: setpoint/v1\nkind: ResourcePool\nmetadata: {name: apps}\nspec: {cluster: pve}\n"
        try pool.write(toFile: dir + "/pool.yaml", atomically: true, encoding: .utf8)
        try "not: [valid".write(toFile: dir + "/.hidden/broken.yaml", atomically: true, encoding: .utf8)
        try "not: [valid".write(toFile: dir + "/notes.txt", atomically: true, encoding: .utf8)
        let set = ManifestLoader().load(paths: [dir])
        #expect(set.diagnostics.isEmpty, "\(set.diagnostics)")
        #expect(set.files.map { ($0 as NSString).lastPathComponent } == ["cluster.yml", "pool.yaml"])
        #expect(set.resources.map(\.id.description).sorted() == ["ProxmoxCluster/pve", "ResourcePool/apps"])
        let pooled = try #require(set.resource(ResourceID(kind: .resourcePool, name: "apps")))
        #expect(pooled.references.map(\.target.description) == ["ProxmoxCluster/pve"])
        #expect(set.graph.topologicalOrder()?.map(\.description) == ["ProxmoxCluster/pve", "ResourcePool/apps"])
    }

    @Test func missingPathIsAnError() {
        let set = ManifestLoader().load(paths: ["/nonexistent/setpoint"])
        #expect(set.diagnostics.map(\.code) == [.unreadableFile])
        #expect(!set.isValid)
    }

    @Test func emptyFolderIsAWarning() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let set = ManifestLoader().load(paths: [dir])
        #expect(set.diagnostics.map(\.code) == [.noManifests])
        #expect(set.isValid)
    }

    @Test func refusesFilesOverTheSizeLimit() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Just over the default limit of 16 MiB: refused before parsing.
        let big = Self.cluster + "# " + String(repeating: "x", count: LoaderLimits.default.maxFileSize) + "\n"
        try big.write(toFile: dir + "/big.yaml", atomically: true, encoding: .utf8)
        let set = ManifestLoader().load(paths: [dir + "/big.yaml"])
        #expect(set.diagnostics.map(\.code) == [.fileTooLarge])
        #expect(set.diagnostics.first?.location == SourceLocation(file: dir + "/big.yaml", line: 1, column: 1))
        #expect(set.resources.isEmpty)
        let small = ManifestLoader(limits: LoaderLimits(maxFileSize: 64)).load(text: Self.cluster, file: "c.yaml")
        #expect(small.diagnostics.map(\.code) == [.fileTooLarge])
    }

    @Test func aServerIdleTimeoutPgBouncerCannotHoldIsRefusedAtItsLine() {
        let text = """
            apiVersion: setpoint/v1
            kind: ConnectionPool
            metadata: {name: pool}
            spec:
              pgbouncer: {port: 6432, databasesFile: /etc/pgbouncer/setpoint.ini}
              databases: {}
              serverIdleTimeout: 1500ms

            """
        let set = ManifestLoader().load(text: text, file: "pool.yaml")
        let found = set.diagnostics.first { $0.summary.contains("serverIdleTimeout") }
        #expect(found?.summary.contains("is not a whole number of seconds") == true, "\(set.diagnostics)")
        #expect(found?.location?.line == 7, "\(String(describing: found?.location))")
    }

    @Test func skipsForeignDocumentsWithANote() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\n" + Self.cluster
        let set = ManifestLoader().load(text: text, file: "m.yaml")
        #expect(set.diagnostics.map(\.code) == [.skippedDocument])
        #expect(set.diagnostics.first?.severity == .note)
        #expect(set.skippedDocuments == 1)
        #expect(set.resources.count == 1)
        #expect(set.isValid)
    }

    @Test func normalisesQuantitiesDurationsAndSecrets() throws {
        let text =
            Self.cluster + """
                ---
                apiVersion: setpoint/v1
                kind: VirtualMachine
                metadata: {name: api-1, annotations: {setpoint/approval: required}}
                spec:
                  cluster: pve
                  memory: 1.5Gi
                  disks: {scsi0: {storage: local-lvm, size: 32Gi}}
                  cloudInit: {password: {file: /run/secrets/root}}

                """
        let set = ManifestLoader().load(text: text, file: "m.yaml")
        #expect(set.diagnostics.isEmpty, "\(set.diagnostics)")
        let vm = try #require(set.resource(ResourceID(kind: .virtualMachine, name: "api-1")))
        #expect(vm.spec["memory"] == .int(1536 << 20))
        #expect(vm.spec["disks"]?["scsi0"]?["size"] == .int(32 << 30))
        #expect(vm.spec["cloudInit"]?["password"] == .secret(.file("/run/secrets/root")))
        #expect(vm.metadata.annotations["setpoint/approval"] == "required")
        let typed = try vm.decodeSpec(VirtualMachineSpec.self)
        #expect(typed.memory == Quantity(bytes: 1536 << 20))
        #expect(typed.cloudInit?.password?.description == "(sensitive)")
        #expect(
            vm.location(of: ["spec", "disks", "scsi0", "size"]) == SourceLocation(file: "m.yaml", line: 15, column: 45)
        )
        let cluster = try #require(set.resource(ResourceID(kind: .proxmoxCluster, name: "pve")))
        let clusterSpec = try cluster.decodeSpec(ProxmoxClusterSpec.self)
        #expect(clusterSpec.tokenSecret == .env("PVE_TOKEN"))
    }

    @Test func reportsAllProblemsOfARunTogether() {
        // An invalid document still takes part in the set-wide checks: its missing reference is reported too.
        let text = """
            apiVersion: setpoint/v1
            kind: VirtualMachine
            metadata: {name: api-1}
            spec: {cluster: nope, cores: "2"}

            """
        let set = ManifestLoader().load(text: text, file: "m.yaml")
        #expect(set.diagnostics.map(\.code) == [.missingReference, .wrongType])
    }
}
