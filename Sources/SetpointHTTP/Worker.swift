import CCurl
import Foundation

/// One worker thread's curl handle: reset between requests, so connections stay open and are reused.
final class Worker {
    let tls: TLSOptions
    let handle: UnsafeMutableRawPointer

    init(tls: TLSOptions) {
        self.tls = tls
        handle = curl_easy_init()!
    }

    deinit { curl_easy_cleanup(handle) }

    func run(_ queue: JobQueue) {
        while let job = queue.pop() {
            do {
                job.continuation.resume(returning: try perform(job.request))
            } catch {
                job.continuation.resume(throwing: error)
            }
        }
    }

    /// Response bytes and header lines, collected by the C callbacks.
    final class Sink {
        var body = Data()
        var headerLines: [String] = []
    }

    func perform(_ request: HTTPRequest) throws -> HTTPResponse {
        curl_easy_reset(handle)
        let sink = Sink()
        let sinkPointer = Unmanaged.passRetained(sink)
        defer { sinkPointer.release() }
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        var headers: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headers) }
        for h in request.headers { headers = curl_slist_append(headers, "\(h.name): \(h.value)") }
        if request.body != nil, !request.headers.contains(where: { $0.name.lowercased() == "expect" }) {
            headers = curl_slist_append(headers, "Expect:")  // no 100-continue round trip
        }
        let ms = Int(
            request.timeout.components.seconds * 1000 + request.timeout.components.attoseconds / 1_000_000_000_000_000
        )
        return try errorBuffer.withUnsafeMutableBufferPointer { errors in
            sp_setopt_string(handle, CURLOPT_URL, request.url)
            // Set (or cleared) on every request: the handle is reused.
            sp_setopt_string(handle, CURLOPT_UNIX_SOCKET_PATH, request.unixSocket)
            sp_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method)
            if request.method == "HEAD" { sp_setopt_long(handle, CURLOPT_NOBODY, 1) }
            sp_setopt_slist(handle, CURLOPT_HTTPHEADER, headers)
            sp_setopt_long(handle, CURLOPT_TIMEOUT_MS, max(1, ms))
            sp_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, max(1, min(ms, 10_000)))
            sp_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
            // PVE puts its error text in the status line.
            sp_setopt_long(handle, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_1_1))
            sp_setopt_long(handle, CURLOPT_TCP_KEEPALIVE, 1)
            sp_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errors.baseAddress)
            if tls.insecure {
                sp_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 0)
                sp_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 0)
            } else {
                if let ca = tls.caFile { sp_setopt_string(handle, CURLOPT_CAINFO, ca) }
                if let pin = tls.pinnedPublicKey { sp_setopt_string(handle, CURLOPT_PINNEDPUBLICKEY, pin) }
            }
            sp_setopt_write(handle, CURLOPT_WRITEFUNCTION) { data, size, count, context in
                let sink = Unmanaged<Sink>.fromOpaque(context!).takeUnretainedValue()
                sink.body.append(UnsafeRawPointer(data!).assumingMemoryBound(to: UInt8.self), count: size * count)
                return size * count
            }
            sp_setopt_pointer(handle, CURLOPT_WRITEDATA, sinkPointer.toOpaque())
            sp_setopt_write(handle, CURLOPT_HEADERFUNCTION) { data, size, count, context in
                let sink = Unmanaged<Sink>.fromOpaque(context!).takeUnretainedValue()
                let line = String(decoding: UnsafeRawBufferPointer(start: data, count: size * count), as: UTF8.self)
                sink.headerLines.append(line.trimmingCharacters(in: .newlines))
                return size * count
            }
            sp_setopt_pointer(handle, CURLOPT_HEADERDATA, sinkPointer.toOpaque())
            let code: CURLcode = try { () throws -> CURLcode in
                guard let body = request.body else { return curl_easy_perform(handle) }
                return body.withUnsafeBytes { bytes in
                    sp_setopt_long(handle, CURLOPT_POSTFIELDSIZE, bytes.count)
                    sp_setopt_pointer(
                        handle,
                        CURLOPT_COPYPOSTFIELDS,
                        UnsafeMutableRawPointer(mutating: bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!)
                    )
                    return curl_easy_perform(handle)
                }
            }()
            guard code == CURLE_OK else {
                let detail = String(cString: errors.baseAddress!)
                let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
                let transient = [
                    CURLE_COULDNT_CONNECT, CURLE_OPERATION_TIMEDOUT, CURLE_RECV_ERROR, CURLE_SEND_ERROR,
                    CURLE_GOT_NOTHING,
                ]
                .contains(code)
                let tls = [
                    CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CONNECT_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
                    CURLE_SSL_CACERT_BADFILE,
                    CURLE_SSL_CERTPROBLEM,
                ].contains(code)
                throw HTTPError(
                    code: Int(code.rawValue),
                    message: tls ? "TLS verification failed: \(message)" : message,
                    url: request.url,
                    isTransient: transient
                )
            }
            var status = 0
            sp_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
            return Self.response(status: status, sink: sink)
        }
    }

    /// Headers of the final response (after any 100-continue or proxy CONNECT blocks).
    static func response(status: Int, sink: Sink) -> HTTPResponse {
        var headers: [String: String] = [:]
        var reason = ""
        for line in sink.headerLines {
            if line.hasPrefix("HTTP/") {
                headers = [:]
                let parts = line.split(separator: " ", maxSplits: 2)
                reason = parts.count == 3 ? String(parts[2]) : ""
            } else if let colon = line.firstIndex(of: ":") {
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                    in: .whitespaces
                )
            }
        }
        return HTTPResponse(status: status, headers: headers, body: sink.body, reason: reason)
    }
}
