// LoadProbe: load a generated manifest set once (or a few times) outside any benchmark harness, to cross-check
// package-benchmark's figures with /usr/bin/time -v, perf or valgrind.
//
//   LoadProbe generate <resources> <files> <dir>   write ManifestGenerator's set into <dir>
//   LoadProbe load <dir> [iterations]              load + validate + decode every typed spec; print times
//   LoadProbe diagnostics <path>...                load and print every diagnostic (to compare two builds)
import Foundation
import SetpointCore
import SetpointManifest
import SetpointTesting

func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
func ms(_ ns: UInt64) -> String { String(format: "%.1f ms", Double(ns) / 1e6) }

func peakRSSKiB() -> Int {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return usage.ru_maxrss
}

let args = CommandLine.arguments
guard args.count >= 3 else {
    print(
        "usage: LoadProbe generate <resources> <files> <dir> | LoadProbe load <dir> [iterations] | LoadProbe diagnostics <path>..."
    )
    exit(2)
}

switch args[1] {
case "generate":
    guard args.count == 5, let n = Int(args[2]), let files = Int(args[3]) else { exit(2) }
    let paths = try ManifestGenerator.write(resources: n, files: files, into: args[4])
    let bytes = paths.reduce(0) { $0 + ((try? FileManager.default.attributesOfItem(atPath: $1)[.size] as? Int) ?? 0) }
    print("wrote \(n) resources, \(bytes) bytes, in \(paths.count) files to \(args[4])")
case "load":
    let dir = args[2]
    let iterations = args.count > 3 ? Int(args[3]) ?? 1 : 1
    for _ in 0..<iterations {
        let t0 = now()
        let set = ManifestLoader().load(paths: [dir])
        let t1 = now()
        let errors = set.diagnostics.filter { $0.severity == .error }
        guard errors.isEmpty else {
            for d in errors.prefix(10) {
                print(d.location.map { "\($0.file):\($0.line):\($0.column)" } ?? "-", d.summary)
            }
            print("\(errors.count) errors")
            exit(1)
        }
        var decoded = 0
        for resource in set.resources {
            _ = try KindRegistry.definition(for: resource.id.kind)!.decode(resource.spec)
            decoded += 1
        }
        let t2 = now()
        print(
            "resources \(set.resources.count) (decoded \(decoded)), diagnostics \(set.diagnostics.count), files \(set.files.count): "
                + "load+validate \(ms(t1 - t0)), decode \(ms(t2 - t1)), total \(ms(t2 - t0)), peak RSS \(peakRSSKiB() / 1024) MiB"
        )
    }
case "plan":
    // Load, then plan against an in-memory observation (one resource in ten drifted); time each phase.
    let set = ManifestLoader().load(paths: [args[2]])
    var observed: [ResourceID: Observation] = [:]
    var applied: [ResourceID: AppliedResource] = [:]
    for (i, r) in set.resources.enumerated() {
        var spec = r.spec
        if i % 10 == 0, case .map(var m) = spec,
            let key = m.keys.sorted().first(where: { if case .string = m[$0]! { true } else { false } })
        {
            m[key] = .string("changed-by-hand")
            spec = .map(m)
        }
        observed[r.id] = .present(ObservedResource(spec: spec, providerID: String(i)))
        applied[r.id] = AppliedResource(
            id: r.id,
            providerID: String(i),
            spec: Differ(policy: FieldPolicy()).appliedForm(of: r.spec),
            dependsOn: r.references.map(\.target)
        )
    }
    let t0 = now()
    let plan = Planner().plan(
        PlanRequest(desired: set.resources, applied: applied, observed: observed, policies: { _ in FieldPolicy() })
    )
    let t1 = now()
    print(
        "plan: \(plan.changes.count) changes of \(plan.actions.count) actions in \(ms(t1 - t0)), peak RSS \(peakRSSKiB() / 1024) MiB"
    )
case "diagnostics":
    let set = ManifestLoader().load(paths: Array(args.dropFirst(2)))
    for d in set.diagnostics {
        let at = d.location.map { "\($0.file):\($0.line):\($0.column)" } ?? "-"
        print("\(at) \(d.severity) \(d.code.rawValue) \(d.summary)\(d.hint.map { " [\($0)]" } ?? "")")
    }
    for resource in set.resources {
        _ = try KindRegistry.definition(for: resource.id.kind)!.decode(resource.spec)
    }
    print("resources \(set.resources.count), skipped \(set.skippedDocuments), diagnostics \(set.diagnostics.count)")
default:
    exit(2)
}
