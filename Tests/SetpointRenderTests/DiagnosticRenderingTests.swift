import SetpointCore
import SetpointManifest
import SetpointRender
import SetpointTesting
import Testing

@Suite struct DiagnosticRenderingTests {
    static let manifest = """
        apiVersion: setpoint/v1
        kind: PostgresCluster
        metadata:
          name: main-db
        spec:
          primary: pg-1
          replica_count: 2
          members:
            - name: pg-1
              host: 10.0.0.1
        ---
        apiVersion: setpoint/v1
        kind: VirtualMachine
        metadata: {name: api-1}
        spec:
          cluster: pve-main
          memory: 4G
          description: no
          disks:
            scsi0: {storage: local-lvm, size: "32Gx"}
        ---
        apiVersion: v1
        kind: ConfigMap

        """

    static let set = ManifestLoader().load(text: manifest, file: "db.yaml")

    static func renderer(_ style: TerminalStyle) -> DiagnosticTextRenderer {
        let lines = manifest.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        return DiagnosticTextRenderer(style: style) { file, line in
            file == "db.yaml" && line >= 1 && line <= lines.count ? lines[line - 1] : nil
        }
    }

    @Test func firstLineHasTheFormatEditorsUnderstand() {
        let text = Self.renderer(.plain).render(Self.set.diagnostics)
        #expect(text.contains("db.yaml:7:3: error[SP1003]: unknown field 'replica_count' in PostgresCluster/main-db\n"))
        #expect(text.contains(" 7 |   replica_count: 2\n   |   ^~~~~~~~~~~~~\n"))
        #expect(!text.contains("\u{1B}["), "no escape codes without a terminal")
    }

    @Test func plainText() {
        let r = Self.renderer(.plain)
        let s = Self.set
        assertSnapshot(r.render(s.diagnostics) + r.summary(resources: s.resources.count, files: 1, skipped: s.skippedDocuments, diagnostics: s.diagnostics),
                       named: "diagnostics.txt")
    }

    @Test func colouredText() {
        let r = Self.renderer(TerminalStyle(isEnabled: true))
        let text = r.render(Self.set.diagnostics)
        #expect(text.contains("\u{1B}[1;31merror[SP1003]\u{1B}[0m"))
        assertSnapshot(text, named: "diagnostics-colour.txt")
    }

    @Test func json() {
        let s = Self.set
        let text = DiagnosticJSONRenderer().render(diagnostics: s.diagnostics, resources: s.resources.count, files: 1, skipped: s.skippedDocuments)
        #expect(text.contains("\"formatVersion\" : 1"))
        assertSnapshot(text, named: "diagnostics.json")
    }

    @Test(arguments: [
        (true, [String: String](), true, "a terminal gets colour"),
        (false, [:], false, "a pipe gets none"),
        (true, ["NO_COLOR": "1"], false, "NO_COLOR turns it off"),
        (true, ["NO_COLOR": ""], false, "NO_COLOR set to anything, even empty"),
        (true, ["TERM": "dumb"], false, "a dumb terminal gets none"),
    ])
    func colourRules(_ isTerminal: Bool, _ env: [String: String], _ expected: Bool, _ reason: String) {
        #expect(TerminalStyle.detect(isTerminal: isTerminal, environment: env).isEnabled == expected, "\(reason)")
    }
}
