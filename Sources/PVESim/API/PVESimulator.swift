import Crypto
import Foundation

/// The simulated Proxmox VE cluster: takes API requests, answers as PVE does. Used in-process by tests and behind
/// the HTTP(S) server of `pve-sim`.
public actor PVESimulator {
    public let options: SimOptions
    var state: ClusterState
    var rng: SeededRandom
    let auth: Auth
    /// Requests by `METHOD /path/template`.
    public private(set) var requestCounts: [String: Int] = [:]
    let clock: @Sendable () -> Double

    public init(
        options: SimOptions = SimOptions(),
        clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
    ) {
        self.options = options
        self.clock = clock
        self.rng = SeededRandom(state: options.seed)
        self.auth = Auth(tokens: options.tokens, rootPassword: options.rootPassword, seed: options.seed)
        if let file = options.stateFile, let data = FileManager.default.contents(atPath: file),
            let saved = try? JSONDecoder().decode(ClusterState.self, from: data)
        {
            state = saved
        } else {
            state = ClusterState()
            Self.populate(&state, options: options, now: Int(clock()))
        }
    }

    var now: Double { clock() }

    /// Total requests served (the number the N+3 observation budget is checked against).
    public var totalRequests: Int { requestCounts.values.reduce(0, +) }

    public func resetRequestCounts() { requestCounts = [:] }

    /// A copy of the cluster state (tests inspect it: which VMIDs and names were ever created …).
    public var snapshot: ClusterState { state }

    /// Changes the cluster out of band, as someone at the PVE GUI would.
    public func mutate(_ change: @Sendable (inout ClusterState) -> Void) {
        change(&state)
        persist()
    }

    public func handle(_ request: SimRequest) async -> SimResponse {
        if options.latency > .zero { try? await Task.sleep(for: options.latency) }
        return respond(request)
    }

    private func respond(_ request: SimRequest) -> SimResponse {
        let path = request.path.isEmpty ? "/" : request.path
        guard let (method, pathParams) = PVEAPISchema.shared.match(method: request.method, path: path) else {
            requestCounts["\(request.method) \(path)", default: 0] += 1
            return .error(501, "Method '\(request.method) \(path)' not implemented")
        }
        requestCounts["\(method.method) \(method.path)", default: 0] += 1
        settleTasks()
        let nowSeconds = Int(now)
        var caller = Auth.Caller(id: "", privileges: [], isToken: false)
        let open = method.permissions["user"]?.stringValue == "world"
        if !open {
            do {
                caller = try auth.authenticate(request, now: nowSeconds)
            } catch {
                guard case .unauthorized(let text) = error else { return .error(401, "authentication failure") }
                return .error(401, text)
            }
            if caller.isToken && method.allowtoken == 0 {
                return .error(403, "Permission check failed (user != root@pam)")
            }
        }
        var params = request.params
        var errors: [String: String] = [:]
        for (name, schema) in method.pathParams {
            ParamValidator.check(pathParams[name], schema: schema, path: name, errors: &errors)
        }
        errors.merge(ParamValidator.validate(&params, method: method)) { a, _ in a }
        if !errors.isEmpty { return .parameterErrors(errors) }
        params.merge(pathParams) { _, p in p }
        if !open, let check = method.permissions["check"],
            let (p, priv) = Auth.check(check, caller: caller, params: params)
        {
            return .error(403, "Permission check failed (\(p), \(priv))")
        }
        let mutating = request.method != "GET"
        if mutating, rng.chance(options.failRate / 2) {
            return .error(596, "Connection timed out")
        }
        let result: SimResponse
        do {
            let data = try dispatch(method, params: params, caller: caller)
            result = .ok(data)
        } catch let error as PVEError {
            if let paramErrors = error.paramErrors { return .parameterErrors(paramErrors) }
            return .error(error.status, error.message)
        } catch {
            return .error(500, "\(error)")
        }
        if mutating { persist() }
        if mutating, rng.chance(options.failRate / 2) {
            return .error(596, "Connection timed out")  // committed, but the client never hears it
        }
        return result
    }

    func persist() {
        guard let file = options.stateFile, let data = try? JSONEncoder().encode(state) else { return }
        try? data.write(to: URL(fileURLWithPath: file), options: .atomic)
    }

    // MARK: - Helpers shared by the handlers

    /// The guest `vmid` of `type` whose config lives on `node`, or PVE's "does not exist" error.
    func guest(_ params: [String: String], _ type: GuestType) throws -> Guest {
        let vmid = Int(params["vmid"]!)!
        let node = params["node"]!
        try requireNode(node)
        guard let g = state.guests[vmid], g.type == type, g.node == node else {
            throw PVEError("Configuration file 'nodes/\(node)/\(type.configDirectory)/\(vmid).conf' does not exist")
        }
        return g
    }

    func requireNode(_ node: String) throws {
        guard state.node(node) != nil else {
            throw PVEError(
                "hostname lookup '\(node)' failed - failed to get address info for: \(node): Name or service not known"
            )
        }
    }

    func checkLock(_ g: Guest, skiplock: Bool = false) throws {
        if let lock = g.lock, !skiplock { throw PVEError("\(g.type.label) is locked (\(lock))") }
    }

    /// The config file's flock: held by a clone of this guest, or lost to `--lock-contention`.
    func takeFileLock(_ g: Guest) throws {
        if g.flockTask != nil || rng.chance(options.lockContention) {
            throw PVEError("can't lock file '/var/lock/\(g.type.configDirectory)/lock-\(g.vmid).conf' - got timeout")
        }
    }

    func digest(_ g: Guest) -> String {
        Self.hex(Insecure.SHA1.hash(data: Data(g.configFileText.utf8)))
    }

    /// Lower-case hex of a digest (String(format:) per byte was a tenth of the simulator's CPU).
    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    func newMAC() -> String {
        state.macCounter += 1
        let a = UInt8.random(in: 0...255, using: &rng)
        let b = UInt8.random(in: 0...255, using: &rng)
        let c = UInt8.random(in: 0...255, using: &rng)
        return String(format: "BC:24:11:%02X:%02X:%02X", a, b, c)
    }

    func uuid() -> String {
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = Self.hex(bytes)
        let i = hex.startIndex
        func s(_ a: Int, _ b: Int) -> Substring { hex[hex.index(i, offsetBy: a)..<hex.index(i, offsetBy: b)] }
        return "\(s(0, 8))-\(s(8, 12))-\(s(12, 16))-\(s(16, 20))-\(s(20, 32))"
    }
}
