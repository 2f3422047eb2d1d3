import SetpointPostgres
import Testing

@Suite(.timeLimit(.minutes(2))) struct ParameterValuesTests {
    @Test func memoryValuesCompareInBytes() {
        #expect(ParameterValues.equivalent("16MB", "16384kB", unit: "kB"))
        #expect(ParameterValues.equivalent("16384", "16MB", unit: "kB"), "a bare number is in the parameter's unit")
        #expect(ParameterValues.equivalent("128MB", "16384", unit: "8kB"), "shared_buffers counts 8 kB blocks")
        #expect(!ParameterValues.equivalent("16MB", "32MB", unit: "kB"))
        #expect(ParameterValues.magnitude("1GB", unit: "kB") == 1_073_741_824)
    }

    @Test func timeValuesCompareInSeconds() {
        #expect(ParameterValues.equivalent("1min", "60s", unit: "s"))
        #expect(ParameterValues.equivalent("500ms", "500", unit: "ms"))
        #expect(ParameterValues.equivalent("5min", "300000", unit: "ms"))
        #expect(!ParameterValues.equivalent("1h", "59min", unit: "min"))
    }

    @Test func booleansAndTextCompareAsPostgreSQLReadsThem() {
        #expect(ParameterValues.equivalent("on", "true", unit: nil))
        #expect(!ParameterValues.equivalent("on", "off", unit: nil))
        #expect(ParameterValues.equivalent("replica", "replica", unit: nil))
        #expect(!ParameterValues.equivalent("replica", "logical", unit: nil))
    }

    @Test func synchronousStandbyNamesAreQuotedIdentifiers() {
        #expect(
            ParameterValues.synchronousStandbyNames(count: 1, standbys: ["pg-2", "pg-3"])
                == "ANY 1 (\"pg-2\", \"pg-3\")"
        )
        #expect(ParameterValues.synchronousStandbyNames(count: 0, standbys: ["pg-2"]) == "")
    }
}
