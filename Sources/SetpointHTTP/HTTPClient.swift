import CCurl
public import Foundation
import Synchronization

/// An HTTP client on libcurl that never blocks Swift's cooperative pool: requests run on a few dedicated worker
/// threads, each keeping one curl handle (and so its connections, kept alive) for the life of the client, and
/// resume the caller's continuation when done.
///
/// Proxies come from the environment (`https_proxy`, `no_proxy` …), as libcurl reads them.
///
/// ```swift
/// let client = HTTPClient(tls: TLSOptions(caFile: "/etc/setpoint/pve-ca.pem"))
/// let r = try await client.send(HTTPRequest(url: "https://pve1:8006/api2/json/version"))
/// ```
public final class HTTPClient: Sendable {
    public let tls: TLSOptions
    private let queue = JobQueue()
    private let workers: Int

    /// - Parameter connections: worker threads, i.e. requests in flight at once.
    public init(tls: TLSOptions = TLSOptions(), connections: Int = 4) {
        self.tls = tls
        self.workers = max(1, connections)
        _ = HTTPClient.globalInit
        for _ in 0..<workers {
            let queue = self.queue
            let tls = self.tls
            let thread = Thread { Worker(tls: tls).run(queue) }
            thread.name = "setpoint-http"
            thread.start()
        }
    }

    deinit { queue.close() }

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    /// Sends a request; returns the response whatever its status.
    /// - Throws: `HTTPError` when no response arrived (refused, timed out, TLS verification failed).
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        // A CR or LF in a value would split the header and smuggle in another; nothing is sent (the value is not shown).
        for header in request.headers {
            if let bad = HTTPRequest.controlCharacter(in: header.value) ?? HTTPRequest.controlCharacter(in: header.name)
            {
                throw HTTPError(
                    code: -1,
                    message: "the \(header.name) header holds a control character (\(bad)): refused, nothing was sent",
                    url: request.url,
                    isTransient: false
                )
            }
        }
        return try await withCheckedThrowingContinuation { continuation in
            queue.push(Job(request: request, continuation: continuation))
        }
    }

    /// Stops the worker threads once the queued requests are done.
    public func shutdown() { queue.close() }
}

struct Job: @unchecked Sendable {  // the continuation is resumed exactly once, by the worker that takes the job
    let request: HTTPRequest
    let continuation: CheckedContinuation<HTTPResponse, any Error>
}

/// A blocking FIFO for the worker threads.
final class JobQueue: Sendable {
    private struct State {
        var jobs: [Job] = []
        var closed = false
    }

    private let state = Mutex(State())
    private let available = DispatchSemaphore(value: 0)

    func push(_ job: Job) {
        let accepted = state.withLock { s -> Bool in
            guard !s.closed else { return false }
            s.jobs.append(job)
            return true
        }
        if accepted {
            available.signal()
        } else {
            job.continuation.resume(
                throwing: HTTPError(
                    code: -1,
                    message: "the HTTP client was shut down",
                    url: job.request.url,
                    isTransient: false
                )
            )
        }
    }

    /// The next job, or nil once closed and drained.
    func pop() -> Job? {
        while true {
            available.wait()
            let next = state.withLock { s -> (Job?, Bool) in
                if !s.jobs.isEmpty { return (s.jobs.removeFirst(), false) }
                return (nil, s.closed)
            }
            if let job = next.0 { return job }
            if next.1 {
                available.signal()  // wake the next worker so it sees the closing too
                return nil
            }
        }
    }

    func close() {
        state.withLock { $0.closed = true }
        available.signal()
    }
}
