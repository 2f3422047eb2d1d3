import CLibFuzzer
import Foundation
import SetpointFuzzing

/// The `controller-request` fuzz target: libFuzzer's driver, given one input at a time.
@main
struct Fuzz {
    static func main() {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { bytes, count in
            FuzzTargets.runBlocking("controller-request", bytes.map { Data(bytes: $0, count: count) } ?? Data())
            return 0
        })
    }
}
