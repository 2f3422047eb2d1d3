import Foundation
import SetpointHTTP
import SetpointTesting
import Testing

/// The controller's API against clients that never finish their request, with no token needed: under `ulimit -n 1024`
/// about 1,000 half-sent requests used to exhaust its open files and abort it. Now every connection must send its
/// request head within --header-timeout, at most --max-connections are open (never more than half the open files),
/// and a new connection beyond the limit closes the one that has waited longest, so quick clients still get in.
@Suite(.timeLimit(.minutes(5)), .serialized) struct ControllerConnectionTests {
    /// Opens N connections to PORT, sends each a request head without its final blank line, and reports on stdout, as
    /// JSON lines, how many the server has closed: `{"t": seconds, "open": n, "closed": n}`, then a last `{"done": …}`.
    static let slowClients = #"""
        import json, resource, selectors, socket, sys, time
        port, n, watch = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
        # Over TLS a slow client stalls in the handshake: a ClientHello record's header announcing 512 bytes, and 6 of them.
        first = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" if sys.argv[4:] == ["tls"] else b"GET /healthz HTTP/1.1\r\nHost: slow\r\nX-Slow: "
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 256), hard))
        sel = selectors.DefaultSelector()
        start = time.time()
        pending = {}
        for i in range(n):
            s = socket.socket()
            s.setblocking(False)
            try:
                s.connect(("127.0.0.1", port))
            except BlockingIOError:
                pass
            sel.register(s, selectors.EVENT_WRITE)
            pending[s] = "unsent"
        closed, last = 0, 0.0
        while time.time() - start < watch and closed < n:
            for key, events in sel.select(timeout=0.2):
                s = key.fileobj
                if pending.get(s) == "unsent" and events & selectors.EVENT_WRITE:
                    try:
                        s.send(first)
                        pending[s] = "sent"
                        sel.modify(s, selectors.EVENT_READ)
                    except (BlockingIOError, InterruptedError):
                        pass
                    except OSError:
                        pending[s] = "closed"; sel.unregister(s); s.close(); closed += 1
                    continue
                try:
                    data = s.recv(4096)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                if not data:
                    pending[s] = "closed"; sel.unregister(s); s.close(); closed += 1
            if time.time() - last >= 0.5:
                last = time.time()
                print(json.dumps({"t": round(last - start, 2), "open": n - closed, "closed": closed}), flush=True)
        print(json.dumps({"done": True, "t": round(time.time() - start, 2), "open": n - closed, "closed": closed}), flush=True)
        """#

    /// TCP sockets of the process on `port` (its listening socket and the API's connections): the inodes of its
    /// descriptors (/proc/PID/fd) that /proc/net/tcp lists with that local port.
    static func apiSockets(of pid: pid_t, port: Int) -> Int {
        let dir = "/proc/\(pid)/fd"
        var inodes = Set<String>()
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
            let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: dir + "/" + name)) ?? ""
            if target.hasPrefix("socket:[") { inodes.insert(String(target.dropFirst(8).dropLast())) }
        }
        let hexPort = String(format: ":%04X", port)
        var count = 0
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            let text = (try? String(contentsOfFile: table, encoding: .utf8)) ?? ""
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ")
                if fields.count > 9, fields[1].hasSuffix(hexPort), inodes.contains(String(fields[9])) { count += 1 }
            }
        }
        return count
    }

    static func metric(_ text: String, _ name: String) -> Double {
        text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap {
            Double($0.split(separator: " ").last ?? "")
        } ?? -1
    }

    /// Plain HTTP, and over TLS (where a slow client stalls in the handshake, before any HTTP).
    @Test(arguments: [false, true])
    func slowClientsAreClosedTheCapHoldsAndTheControllerStillAnswersAndReconciles(overTLS: Bool) async throws {
        let env = try await SimEnv()
        defer { Task { await env.stop() } }
        try env.write([ControllerTests.vm(cores: 2)])
        let binary = LaunchedProcess.setpointBinary.path
        let tls = overTLS ? try ControllerTLSTests.writePair(in: env.dir, tag: "api") : nil
        // 1,024 open files, as systemd gives a service by default: the connection limit is half of them at most.
        let controller = try ChildProcess.start(
            [
                "/bin/sh", "-c", "ulimit -n 1024 && exec \"$0\" \"$@\"", binary, "controller", env.manifests,
                "--interval", "300ms",
                "--listen", "127.0.0.1:0", "--state", env.state, "--header-timeout", "3s", "--max-connections", "5000",
            ] + (tls.map { ["--tls-certificate", $0.certificate, "--tls-key", $0.key] } ?? []),
            environment: ["PVE_TOKEN": "5e7d0000-0000-4000-8000-000000000001"]
        )
        defer { controller.signal(SIGKILL) }
        let output = controller.output
        let scheme = overTLS ? "https" : "http"
        #expect(await output.waitFor("API on \(scheme)://127.0.0.1:"), "\(output.value)")
        #expect(
            output.value.contains(
                "warning: --max-connections 5000 does not fit the open-file limit of 1024: at most 480"
            ),
            "\(output.value)"
        )
        let port = try #require(
            output.value.components(separatedBy: "API on \(scheme)://127.0.0.1:").last?.prefix { $0.isNumber }
        ).description
        let url = "\(scheme)://127.0.0.1:\(port)"
        let clientTLS = TLSOptions(caFile: tls?.ca)
        let http = HTTPClient(tls: clientTLS, connections: 1)
        defer { http.shutdown() }
        let before = String(decoding: try await http.send(HTTPRequest(url: url + "/metrics")).body, as: UTF8.self)
        #expect(Self.metric(before, "setpoint_http_connections_limit") == 480)
        let baseline = Self.apiSockets(of: controller.processIdentifier, port: Int(port)!)

        // 2,000 slow clients, watched until every one is closed or 60 s pass. They are served in waves of at most 480,
        // each held up to the 3 s header timeout, so the last close after some 15–25 s; on a loaded machine the
        // kernel's SYN retries (1 s, 3 s, 7 s …) make some connect late, and a 25 s watch once ended with 237 open.
        let flood = try ChildProcess.start(
            ["python3", "-c", Self.slowClients, port, "2000", "60"] + (overTLS ? ["tls"] : [])
        )
        defer { flood.signal(SIGKILL) }
        var maxSockets = 0
        var answered = 0
        let passesBefore = Self.metric(
            String(decoding: try await http.send(HTTPRequest(url: url + "/metrics")).body, as: UTF8.self),
            "setpoint_passes_total"
        )
        while flood.isRunning {
            maxSockets = max(maxSockets, Self.apiSockets(of: controller.processIdentifier, port: Int(port)!))
            // A quick client gets in while the slow ones hold connections: a fresh connection for every probe.
            let probe = HTTPClient(tls: clientTLS, connections: 1)
            let health = try? await probe.send(HTTPRequest(url: url + "/healthz", timeout: .seconds(10)))
            probe.shutdown()
            #expect(health?.status == 200, "/healthz during the flood: \(String(describing: health?.status))")
            if health?.status == 200 { answered += 1 }
            try await Task.sleep(for: .milliseconds(200))
        }
        let lines = flood.stdout.value.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        let done = try #require(lines.last { $0["done"] != nil }, "\(flood.output.value)")
        #expect(done["closed"] as? Int == 2000, "every slow client was closed: \(done)")
        // Once every client had connected, the ones still open are within the limit, and they go only by the header
        // timeout (3 s): the controller held them, it did not refuse everyone.
        let heldOpen = lines.compactMap { $0["open"] as? Int }.filter { $0 > 0 && $0 <= 480 }
        #expect(!heldOpen.isEmpty, "some slow clients were held until their header timeout: \(lines.suffix(20))")
        // The limit counts admitted connections; a connection closed to make room is closed on its own event loop a moment
        // later, so a few more sockets may exist for an instant — far below the 1,024 files either way.
        #expect(maxSockets <= baseline + 480 + 32, "the cap holds: \(maxSockets) sockets (baseline \(baseline))")
        #expect(answered >= 5)

        let after = String(decoding: try await http.send(HTTPRequest(url: url + "/metrics")).body, as: UTF8.self)
        #expect(Self.metric(after, "setpoint_passes_total") > passesBefore, "it kept reconciling")
        #expect(
            Self.metric(after, "setpoint_http_connections_closed_total{reason=\"header_timeout\"}") >= 1,
            "\(after)"
        )
        #expect(Self.metric(after, "setpoint_http_connections_closed_total{reason=\"evicted\"}") >= 1, "\(after)")
        #expect(controller.isRunning, "\(output.value.suffix(2000))")
        var left = Self.apiSockets(of: controller.processIdentifier, port: Int(port)!)
        for _ in 0..<50 where left > baseline + 2 {
            try await Task.sleep(for: .milliseconds(100))
            left = Self.apiSockets(of: controller.processIdentifier, port: Int(port)!)
        }
        #expect(left <= baseline + 2, "the slow clients' sockets are gone: \(left) (baseline \(baseline))")
        controller.signal(SIGTERM)
        #expect(await controller.exitStatus(within: .seconds(30)) == 0, "\(output.value.suffix(2000))")
    }
}
