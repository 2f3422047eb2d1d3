import Foundation
import Testing

@testable import SetpointProxmox

/// The byte-level parser of PVE response bodies gives what Foundation's decoder gives, refuses what it refuses, and
/// stops at a nesting limit instead of following it.
@Suite(.timeLimit(.minutes(1))) struct PVEJSONParserTests {
    static func decoded(_ text: String) -> PVEJSON? { try? JSONDecoder().decode(PVEJSON.self, from: Data(text.utf8)) }

    @Test(arguments: [
        #"{"data":[{"vmid":100,"name":"web-1","maxmem":2147483648,"cpu":0.0123,"template":0,"tags":"a;b"}]}"#,
        #"{"data":{"net0":"virtio=BC:24:11:00:00:01,bridge=vmbr0","description":"line\nnext \"quoted\" \\ / \/"}}"#,
        #"{"data":null}"#, #"{"data":"UPID:pve1:0000:task:100:root@pam:"}"#, #"[true,false,null,-0,1e3,-2.5E-3]"#,
        #"{"é":"ünïcødé ✓","emoji":"\ud83d\ude00","bmp":"\u00e9\u4e2d"}"#, "  {\"a\" : [ ] , \"b\" : { } }  ",
        #"{"dup":1,"dup":2}"#,
    ])
    func matchesFoundation(text: String) throws {
        let parsed = try PVEJSON.parse(Data(text.utf8))
        #expect(parsed == Self.decoded(text), "\(text)")
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\":}", "{\"a\" 1}", "[1 2]", "\"open", "tru", "nul", "01x", "1.", ".5", "+1", "-",
        "[1]x", "{\"a\":1,}", "\"bad \\q escape\"", "\"tab\there\"", "NaN", "Infinity", "1e999", "01", "-012", "00.5",
    ])
    func refusesWhatIsNotJSON(text: String) {
        #expect(throws: PVEJSONError.self, "\(text)") { try PVEJSON.parse(Data(text.utf8)) }
    }

    @Test func deepNestingIsRefusedNotFollowed() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        let error = try #require(throws: PVEJSONError.self) { try PVEJSON.parse(Data(deep.utf8)) }
        #expect(error.reason.contains("nested deeper than"))
        let fine = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        #expect(throws: Never.self) { try PVEJSON.parse(Data(fine.utf8)) }
    }

    /// Random documents, written by JSONSerialization, read back the same by both.
    @Test func randomDocumentsMatchFoundation() throws {
        var rng = SplitMix(seed: 7)
        func value(_ depth: Int) -> Any {
            switch rng.next() % (depth > 3 ? 4 : 6) {
            case 0: return Int(rng.next() % 1_000_000) - 500_000
            case 1: return Double(rng.next() % 10_000) / 7
            case 2:
                let pool = ["a", "é", "中", "😀", "\"", "\\", "\n", "\u{01}", "/", " ", "=", ","]
                return (0..<Int(rng.next() % 12)).map { _ in pool[Int(rng.next() % UInt64(pool.count))] }.joined()
            case 3: return rng.next() % 2 == 0
            case 4: return (0..<Int(rng.next() % 5)).map { _ in value(depth + 1) }
            default:
                return Dictionary(
                    (0..<Int(rng.next() % 5)).map { i in ("k\(i)\(rng.next() % 3)", value(depth + 1)) },
                    uniquingKeysWith: { a, _ in a }
                )
            }
        }
        for _ in 0..<300 {
            let data = try JSONSerialization.data(withJSONObject: ["data": value(0)], options: [.fragmentsAllowed])
            let text = String(decoding: data, as: UTF8.self)
            #expect(try PVEJSON.parse(data) == Self.decoded(text), "\(text)")
        }
    }
}

struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
