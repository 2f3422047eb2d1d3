public import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SetpointController
import SetpointCore
import SetpointEngine
import SetpointManifest
import SetpointProxmox
import SetpointRender
import SetpointState
import SetpointTesting
import SetpointYAML

/// What Setpoint does with bytes it does not control, one entry per fuzz target. Any input must end in a value or an
/// error, never a trap, a hang or unbounded memory. `scripts/fuzz` runs them under libFuzzer with AddressSanitizer
/// (Fuzz/, one executable that takes the target's name); `FuzzCorpusTests` replays the committed corpora (Fuzz/Corpus/TARGET) through ordinary tests.
public enum FuzzTargets {
    public static let names = ["yaml", "saved-plan", "plan-json", "pve-response", "controller-request"]

    /// The targets that need no concurrency, by name.
    static let synchronous: [String: @Sendable (Data) -> Void] = [
        "yaml": yaml, "saved-plan": savedPlan, "plan-json": planJSON, "pve-response": pveResponse,
    ]

    /// A manifest file: read, decoded, checked, and its diagnostics rendered as text and JSON. A small depth limit
    /// exercises the nesting checks too.
    public static func yaml(_ data: Data) {
        // The bytes as read from a file (UTF-16 and invalid UTF-8 reach libyaml as they are) …
        var diagnostics: [Diagnostic] = []
        _ = YAMLReader(limits: LoaderLimits(maxFileSize: 16 << 20, maxDepth: 8)).read(
            [UInt8](data),
            file: "fuzz.yaml",
            diagnostics: &diagnostics
        )
        // … and as text, through the whole loader.
        let text = String(decoding: data, as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for limits in [LoaderLimits.default, LoaderLimits(maxFileSize: 16 << 20, maxDepth: 6)] {
            let set = ManifestLoader(limits: limits).load(text: text, file: "fuzz.yaml")
            _ = DiagnosticTextRenderer { _, n in n >= 1 && n <= lines.count ? String(lines[n - 1]) : nil }.render(
                set.diagnostics
            )
            _ = DiagnosticJSONRenderer().render(
                diagnostics: set.diagnostics,
                resources: set.resources.count,
                files: 1,
                skipped: set.skippedDocuments
            )
            for resource in set.resources { _ = CanonicalJSON.encode(resource.spec) }
        }
    }

    /// A saved plan file (`plan --out`): its header, digest and signature checks, unsigned and with a key; and the body
    /// on its own (a fuzzer seldom matches a SHA-256), decoded and, when it reads, rendered and written again.
    public static func savedPlan(_ data: Data) {
        var plans: [SavedPlan] = []
        for key in [nil, Array("fuzz-key".utf8)] as [[UInt8]?] {
            if let saved = try? SavedPlanFile.decode(data, path: "fuzz.plan", signingKey: key) { plans.append(saved) }
        }
        if let body = try? JSONDecoder().decode(SavedPlan.self, from: data) { plans.append(body) }
        for saved in plans {
            _ = PlanTextRenderer().render(saved.plan)
            _ = PlanJSONRenderer().render(saved.plan)
            _ = try? SavedPlanFile.encode(saved, signingKey: nil)
        }
    }

    /// Plan JSON as the API and `plans show` read it, and canonical JSON as the state stores read specs and audit details.
    public static func planJSON(_ data: Data) {
        _ = try? JSONDecoder().decode(PlanJSONDocument.self, from: data)
        if let value = try? CanonicalJSONReader.value(from: String(decoding: data, as: UTF8.self)) {
            _ = CanonicalJSON.encode(value)
            _ = CanonicalJSON.digest(value)
        }
    }

    /// A Proxmox VE API answer, as observation reads it.
    public static func pveResponse(_ data: Data) { PVEResponseDecoding.decode(data) }

    /// An HTTP request to the controller's API, in process: `METHOD TARGET`, header lines, a blank line, the body.
    /// Tokens of every role exist and one plan is pending, so every route can be reached.
    public static func controllerRequest(_ data: Data) async {
        let bytes = [UInt8](data)
        let split = bytes.firstRange(of: [13, 10, 13, 10]) ?? bytes.firstRange(of: [10, 10])
        let head = String(decoding: bytes[..<(split?.lowerBound ?? bytes.endIndex)], as: UTF8.self)
        let body = split.map { Array(bytes[$0.upperBound...]) } ?? []
        var lines = head.split(whereSeparator: \.isNewline).map(String.init)
        guard !lines.isEmpty else { return }
        let requestLine = lines.removeFirst().split(separator: " ", maxSplits: 2).map(String.init)
        guard requestLine.count >= 2, let method = HTTPRequest.Method(requestLine[0]) else { return }
        var fields = HTTPFields()
        for line in lines {
            guard let colon = line.firstIndex(of: ":"), let name = HTTPField.Name(String(line[..<colon])) else {
                continue
            }
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            guard HTTPField.isValidValue(value) else { continue }
            fields.append(HTTPField(name: name, value: value))
        }
        let target = requestLine[1].hasPrefix("/") ? requestLine[1] : "/" + requestLine[1]
        let request = Request(
            head: HTTPRequest(
                method: method,
                scheme: "http",
                authority: "127.0.0.1",
                path: target,
                headerFields: fields
            ),
            body: RequestBody(buffer: ByteBuffer(bytes: body))
        )
        let api = await ControllerFixture.shared.api
        _ = await api.respond(request)
    }
}

/// One controller API for every input: an in-memory store with a pending plan, and a token per role whose text is
/// `viewer`, `approver` or `admin` (so inputs can carry `Authorization: Bearer approver`).
actor ControllerFixture {
    static let shared = ControllerFixture()
    private var made: ControllerAPI?

    var api: ControllerAPI {
        get async {
            if let made { return made }
            let store = InMemoryStateStore()
            try? await store.savePlan(
                StoredPlan(
                    id: "p-fuzz",
                    status: .pending,
                    plan: nil,
                    json: "{\"source\":{\"gitAuthor\":\"a@example.net\"}}",
                    text: "Plan p-fuzz\n",
                    createdAt: "2026-12-07T00:00:00Z"
                )
            )
            let lines = Tokens.Role.allCases.map {
                "\($0.rawValue) \($0.rawValue)@example.net sha256:\(SHA256.hex($0.rawValue)) unlimited"
            }
            let tokens = (try? Tokens(lines: lines.joined(separator: "\n"))) ?? (try! Tokens(lines: ""))
            let reconciler = Reconciler(
                Reconciler.Configuration(
                    paths: ["/nonexistent"],
                    providers: [],
                    secrets: EnvironmentSecretResolver(environment: [:])
                ),
                store: store
            )
            let api = ControllerAPI(
                store: store,
                status: ControllerStatus(),
                reconciler: reconciler,
                tokens: TokenStore(tokens),
                fourEyes: true
            )
            made = api
            return api
        }
    }
}

extension FuzzTargets {
    /// Runs the target named `name` on `data`, from a thread that may block — libFuzzer's, or the one FuzzCorpusTests
    /// starts, never Swift's cooperative pool: the API target is async, and this waits for it.
    public static func runBlocking(_ name: String, _ data: Data) {
        if let target = synchronous[name] { return target(data) }
        precondition(name == "controller-request", "no fuzz target \(name)")
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            await controllerRequest(data)
            done.signal()
        }
        done.wait()
    }
}
