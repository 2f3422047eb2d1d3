import Foundation
import SetpointCore
import SetpointTesting
import SetpointYAML
import Testing

@Suite(.timeLimit(.minutes(2))) struct ScalarResolverTests {
    static let plain: [(String, ResolvedScalar)] = [
        ("no", .bool(false)), ("No", .bool(false)), ("yes", .bool(true)), ("on", .bool(true)), ("OFF", .bool(false)),
        ("true", .bool(true)), ("False", .bool(false)), ("y", .string("y")), ("n", .string("n")),
        ("~", .null), ("null", .null), ("", .null), ("nil", .string("nil")),
        ("0755", .int(493)), ("0", .int(0)), ("42", .int(42)), ("-7", .int(-7)), ("+3", .int(3)), ("1_000", .int(1000)),
        ("0x1F", .int(31)), ("0b101", .int(5)), ("1:20", .int(80)), ("08", .string("08")), ("0o17", .string("0o17")),
        ("1.5", .double(1.5)), ("1.", .double(1)), (".5", .double(0.5)), ("1e3", .string("1e3")),
        ("1.0e+3", .double(1000)),
        ("-.5", .string("-.5")), (".inf", .double(.infinity)), ("4Gi", .string("4Gi")), ("api-1", .string("api-1")),
        ("2024-01-02", .timestamp), ("10.0.0.1", .string("10.0.0.1")), ("5m", .string("5m")),
        ("153722867280912931:00", .bigInt), ("-1:30", .int(-90)),
    ]

    @Test(arguments: plain.map { ($0.0, $0.1) })
    func resolvesLikeYAML11(_ text: String, _ expected: ResolvedScalar) {
        #expect(ScalarResolver.resolvePlain(text) == expected, "'\(text)'")
    }

    /// YAML 1.1 base-60 integers that overflow 64 bits are still integers, never a trap (they crashed every command).
    @Test(arguments: [
        "153722867280912931:00", "1:00:00:00:00:00:00:00:00:00:00:00:00", "-153722867280912931:00",
        "99999999999999999999:00",
        "9223372036854775807:59",
    ])
    func sexagesimalOverflowIsABigInteger(_ text: String) {
        #expect(ScalarResolver.resolvePlain(text) == .bigInt, "'\(text)'")
    }

    @Test func sexagesimalValuesKeepTheirSign() {
        #expect(ScalarResolver.resolvePlain("-1:30") == .int(-90))
        #expect(ScalarResolver.resolvePlain("+1:00:00") == .int(3600))
        #expect(ScalarResolver.resolvePlain("153722867280912930:07") == .int(9_223_372_036_854_775_807))
    }

    @Test func quotedScalarsAreStrings() {
        #expect(ScalarResolver.resolve(.init(text: "no", style: .doubleQuoted)) == .string("no"))
        #expect(ScalarResolver.resolve(.init(text: "0755", style: .singleQuoted)) == .string("0755"))
        #expect(
            ScalarResolver.resolve(.init(text: "0755", style: .plain, tag: "tag:yaml.org,2002:str")) == .string("0755")
        )
    }

    /// The same scalars through PyYAML's safe loader (the loader the JSON Schema test uses): the types must agree.
    @Test(.enabled("needs python3 with PyYAML") { await ExternalTool.pythonHas(["yaml"]) || ExternalTool.isCI })
    func agreesWithPyYAML() async throws {
        let script = """
            import json, sys, yaml, datetime
            out = []
            for s in json.load(sys.stdin):
                v = yaml.safe_load("v: " + s)["v"] if s else None
                t = ("null" if v is None else "boolean" if isinstance(v, bool) else "integer" if isinstance(v, int)
                     else "number" if isinstance(v, float) else "timestamp" if isinstance(v, (datetime.date, datetime.datetime)) else "string")
                out.append(t)
            print(json.dumps(out))
            """
        let texts = Self.plain.map(\.0)
        let input = String(decoding: try JSONEncoder().encode(texts), as: UTF8.self)
        let result = try #require(await ExternalTool.run("python3", ["-c", script], input: input))
        #expect(result.status == 0, "\(result.stderr)")
        let types = try JSONDecoder().decode([String].self, from: Data(result.stdout.utf8))
        for (text, pyType) in zip(texts, types) {
            #expect(
                ScalarResolver.resolvePlain(text).typeName == pyType,
                "'\(text)': Setpoint \(ScalarResolver.resolvePlain(text).typeName), PyYAML \(pyType)"
            )
        }
    }
}
