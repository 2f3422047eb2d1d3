import CLibFuzzer
import Foundation
import SetpointFuzzing

/// One fuzzer for every target: `SETPOINT_FUZZ_TARGET=yaml setpoint-fuzz [libFuzzer arguments…]`. The target comes from
/// the environment, not the arguments: libFuzzer runs itself again with the same arguments (`-merge`, `-fork`), and
/// its children inherit the environment.
@main
struct Fuzz {
    static let target = ProcessInfo.processInfo.environment["SETPOINT_FUZZ_TARGET"] ?? ""

    static func main() {
        guard FuzzTargets.names.contains(target) else {
            FileHandle.standardError.write(
                Data(
                    ("usage: SETPOINT_FUZZ_TARGET=TARGET setpoint-fuzz [libFuzzer arguments…]; targets: "
                        + FuzzTargets.names.joined(separator: ", ") + "\n").utf8
                )
            )
            exit(2)
        }
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(
            LLVMFuzzerRunDriver(&argc, &argv) { bytes, count in
                FuzzTargets.runBlocking(Fuzz.target, bytes.map { Data(bytes: $0, count: count) } ?? Data())
                return 0
            }
        )
    }
}
