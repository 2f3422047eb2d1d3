import Foundation
import SetpointTesting
import Testing

/// Trust on first use (`ssh.trustOnFirstUse`) on h16: refused by plan and doctor while no key is trusted; the first
/// apply trusts the key h16 offers and writes it to the audit log; later runs check against it; a new key on h16 (a
/// reinstalled host) is refused naming both fingerprints.
@Suite(.timeLimit(.minutes(2)), .serialized) struct LabTrustTests {
    @Test func theFirstApplyTrustsTheKeyAndEveryLaterLoginChecksIt() async throws {
        guard let lab = try Lab.current() else { return }
        let h16 = lab.host("h16")
        let dir = try Lab.workspace("trust")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let manifest = """
            apiVersion: setpoint/v1
            kind: Host
            metadata: {name: h16}
            spec:
              address: \(h16.address)
              ssh:
                user: \(lab.inventory.sshUser)
                privateKey: {file: \(lab.inventory.privateKey)}
                trustOnFirstUse: true
                connectTimeout: 5s

            """
        try manifest.write(toFile: dir + "/trust.yaml", atomically: true, encoding: .utf8)
        let logins = try lab.logins("h16")

        // plan and doctor never trust a key: refused before any login, saying what to do.
        let plan = try await lab.setpoint(["plan", "trust.yaml"], in: dir)
        #expect(plan.status == 1)
        #expect(
            (plan.stdout + plan.stderr).contains("pins no key and none is trusted yet"),
            "\(plan.stdout)\(plan.stderr)"
        )
        let doctor = try await lab.setpoint(["doctor", "trust.yaml"], in: dir)
        #expect(doctor.status == 1 && doctor.stdout.contains("none is trusted yet"), "\(doctor.stdout)\(doctor.stderr)")
        #expect(try lab.logins("h16") == logins, "no login before a key is trusted")

        // The first apply trusts the key h16 offers: in the audit log with its fingerprint.
        let applied = try await lab.setpoint(["apply", "trust.yaml", "--auto-approve"], in: dir)
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        let fingerprint = try await ChildProcess.run(
            ["ssh-keygen", "-l", "-f", "/dev/stdin"],
            input: h16.hostKey + "\n"
        )
        .stdout.split(separator: " ")[1]
        let audit = try await lab.setpoint(["audit", "log", "--output", "json"], in: dir)
        #expect(audit.stdout.contains("host-key-trusted"), "\(audit.stdout)")
        #expect(audit.stdout.contains(String(fingerprint)), "the audit record names the fingerprint: \(audit.stdout)")
        #expect(audit.stdout.contains("\(h16.address):22"))

        // Later runs, read-only ones too, check against the trusted key.
        let again = try await lab.setpoint(["plan", "trust.yaml", "--detailed-exitcode"], in: dir)
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        let checked = try await lab.setpoint(["doctor", "trust.yaml"], in: dir)
        #expect(checked.status == 0, "\(checked.stdout)\(checked.stderr)")

        // A reinstalled h16 (a new host key): refused, naming the key offered and the one trusted; nothing trusted anew.
        let rekeyed = try await lab.lab(["rekey", "h16"])
        #expect(rekeyed.status == 0, "\(rekeyed.stderr)")
        let refused = try await lab.setpoint(["apply", "trust.yaml", "--auto-approve"], in: dir)
        let said = refused.stdout + refused.stderr
        #expect(refused.status == 1)
        #expect(said.contains("offered a host key that is not pinned"), "\(said)")
        #expect(said.contains("was trusted on first use as ED25519 \(fingerprint)"), "\(said)")
        let after = try await lab.setpoint(["audit", "log", "--output", "json"], in: dir)
        #expect(
            after.stdout.components(separatedBy: "host-key-trusted").count == 2,
            "one key trusted, once: \(after.stdout)"
        )
    }
}
