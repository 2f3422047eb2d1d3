import Foundation
import PVESim
import Testing

/// Token and ticket auth, privileges, and PVE's 400/501 wording.
@Suite(.timeLimit(.minutes(2))) struct AuthAndValidationTests {
    @Test func tokensAreCheckedAndWrongOnesGet401() async throws {
        let sim = Sim()
        let none = await sim.call("GET", "/version", headers: [:])
        #expect(none.status == 401 && none.reason == "authentication failure")
        let wrong = await sim.call(
            "GET",
            "/version",
            headers: ["authorization": "PVEAPIToken=root@pam!setpoint=not-the-secret"]
        )
        #expect(wrong.status == 401)
        #expect(try await sim.ok("GET", "/version")["version"] == .string("9.1.2"))
    }

    @Test func ticketsNeedTheCSRFTokenForWrites() async throws {
        let sim = Sim()
        let bad = await sim.call("POST", "/access/ticket", ["username": "root@pam", "password": "wrong"], headers: [:])
        #expect(bad.status == 401)
        let login = try #require(
            await sim.call("POST", "/access/ticket", ["username": "root@pam", "password": "setpoint"], headers: [:])
                .body["data"]
        )
        let ticket = try #require(login["ticket"]?.stringValue)
        let csrf = try #require(login["CSRFPreventionToken"]?.stringValue)
        #expect(ticket.hasPrefix("PVE:root@pam:"))
        let cookie = ["cookie": "PVEAuthCookie=\(ticket)"]
        #expect(await sim.call("GET", "/nodes", headers: cookie).status == 200)
        let noCSRF = await sim.call("POST", "/pools", ["poolid": "a"], headers: cookie)
        #expect(noCSRF.status == 401 && noCSRF.reason == "Permission denied - invalid csrf token")
        var withCSRF = cookie
        withCSRF["csrfpreventiontoken"] = csrf
        #expect(await sim.call("POST", "/pools", ["poolid": "a"], headers: withCSRF).status == 200)
        let forged = await sim.call(
            "GET",
            "/nodes",
            headers: ["cookie": "PVEAuthCookie=PVE:root@pam:6B000000::c2lnbmF0dXJl"]
        )
        #expect(forged.status == 401)
    }

    @Test func privilegesAreCheckedPerPathAndPerConfigKey() async throws {
        let sim = Sim {
            $0.tokens += [
                TokenSpec(id: "audit@pve!ro", secret: "s1", role: "PVEAuditor"),
                TokenSpec(id: "ops@pve!opts", secret: "s2", role: "VM.Audit,VM.Config.Options"),
            ]
        }
        try await sim.createVM(100)
        let auditor = ["authorization": "PVEAPIToken=audit@pve!ro=s1"]
        #expect(await sim.call("GET", "/nodes/pve1/qemu/100/config", headers: auditor).status == 200)
        let denied = await sim.call("POST", "/nodes/pve1/qemu/100/status/start", headers: auditor)
        #expect(denied.status == 403 && denied.reason == "Permission check failed (/vms/100, VM.PowerMgmt)")
        let ops = ["authorization": "PVEAPIToken=ops@pve!opts=s2"]
        #expect(await sim.call("PUT", "/nodes/pve1/qemu/100/config", ["description": "ok"], headers: ops).status == 200)
        let memory = await sim.call("PUT", "/nodes/pve1/qemu/100/config", ["memory": "1024"], headers: ops)
        #expect(memory.status == 403 && memory.reason == "Permission check failed (/vms/100, VM.Config.Memory)")
        let perms = await sim.call("GET", "/access/permissions", ["path": "/"], headers: ops)
        #expect(perms.body["data"]?["/"]?["VM.Config.Options"] == .int(1))
        #expect(perms.body["data"]?["/"]?["VM.Config.Memory"] == nil)
    }

    @Test func badParametersGetPVEsWording() async throws {
        let sim = Sim()
        let r = await sim.call(
            "POST",
            "/nodes/pve1/qemu",
            [
                "vmid": "abc", "bogus": "1", "cores": "0", "ostype": "dos",
                "net0": "foo,bridge=vmbr0", "onboot": "maybe",
            ]
        )
        #expect(r.status == 400 && r.reason == "Parameter verification failed.")
        #expect(r.body["message"] == .string("Parameter verification failed.\n"))
        let errors = try #require(r.body["errors"])
        #expect(errors["vmid"] == .string("type check ('integer') failed - got 'abc'\n"))
        #expect(
            errors["bogus"]
                == .string("property is not defined in schema and the schema does not allow additional properties\n")
        )
        #expect(errors["cores"] == .string("value must have a minimum value of 1\n"))
        #expect(
            errors["ostype"]?.stringValue?.hasPrefix(
                "value 'dos' does not have a value in the enumeration 'other, wxp,"
            ) == true
        )
        #expect(
            errors["net0"]?.stringValue?.hasPrefix(
                "invalid format - format error\nnet0.model: value 'foo' does not have a value in the enumeration"
            ) == true
        )
        #expect(errors["onboot"] == .string("type check ('boolean') failed - got 'maybe'\n"))
        let missing = await sim.call("POST", "/pools", [:])
        #expect(missing.body["errors"]?["poolid"] == .string("property is missing and it is not optional\n"))
    }

    @Test func unknownMethodsAre501() async throws {
        let sim = Sim()
        let r = await sim.call("GET", "/nodes/pve1/bogus")
        #expect(r.status == 501 && r.reason == "Method 'GET /nodes/pve1/bogus' not implemented")
    }

    @Test func everyMethodOfTheSchemaIsRouted() async throws {
        // No schema method may fall through to the dispatcher's 501.
        let sim = Sim()
        for m in PVEAPISchema.shared.methods {
            var path = m.path
            for (name, value) in [
                "node": "pve1", "vmid": "100", "id": "x", "poolid": "p", "upid": "UPID:pve1:0:0:0:x:1:root@pam:",
                "storage": "local",
            ] {
                path = path.replacingOccurrences(of: "{\(name)}", with: value)
            }
            let r = await sim.call(m.method, path)
            #expect(r.status != 501, "\(m.method) \(m.path) is not implemented")
        }
    }
}
