import Foundation

/// One API request as the simulator sees it (the HTTP layer or a test builds it).
public struct SimRequest: Sendable {
    public var method: String
    /// Below `/api2/json`, e.g. `/nodes/pve1/qemu/100/config`, percent-decoded per segment.
    public var path: String
    /// Query and body parameters merged, repeated keys joined by `\0`-free last-wins.
    public var params: [String: String]
    /// Header names in lower case.
    public var headers: [String: String]

    public init(method: String, path: String, params: [String: String] = [:], headers: [String: String] = [:]) {
        self.method = method
        self.path = path
        self.params = params
        self.headers = headers
    }

    /// Decodes `application/x-www-form-urlencoded` text (query string or body).
    public static func formDecode(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for pair in text.split(separator: "&") where !pair.isEmpty {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            func decode(_ s: String) -> String {
                s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? s
            }
            result[decode(kv[0])] = kv.count > 1 ? decode(kv[1]) : ""
        }
        return result
    }

    /// Decodes a JSON object body; scalars become the strings a form would carry (booleans as 0/1).
    public static func jsonDecode(_ data: Data) -> [String: String]? {
        guard case .object(let o)? = try? JSONValue.parse(data) else { return nil }
        var result: [String: String] = [:]
        for (k, v) in o {
            if let s = v.stringValue { result[k] = s }
        }
        return result
    }
}

/// The answer: status, the status line's reason phrase (PVE's error text), and the JSON body.
public struct SimResponse: Sendable {
    public var status: Int
    public var reason: String
    public var body: JSONValue
    public var headers: [String: String] = [:]

    static func ok(_ data: JSONValue) -> SimResponse {
        SimResponse(status: 200, reason: "OK", body: .object(["data": data]))
    }

    static func error(_ status: Int, _ message: String) -> SimResponse {
        let text = message.hasSuffix("\n") ? message : message + "\n"
        let reason = text.trimmingCharacters(in: .newlines).replacingOccurrences(of: "\n", with: " ")
        return SimResponse(status: status, reason: reason, body: .object(["data": .null, "message": .string(text)]))
    }

    static func parameterErrors(_ errors: [String: String]) -> SimResponse {
        SimResponse(
            status: 400,
            reason: "Parameter verification failed.",
            body: .object([
                "data": .null, "errors": .object(errors.mapValues { .string($0) }),
                "message": .string("Parameter verification failed.\n"),
            ])
        )
    }
}

/// A handler's failure: PVE's `die` text and the status it becomes (500 unless said otherwise).
public struct PVEError: Error, Sendable {
    public var status: Int
    public var message: String
    public var paramErrors: [String: String]?

    public init(_ message: String, status: Int = 500) {
        self.status = status
        self.message = message
    }

    static func param(_ name: String, _ message: String) -> PVEError {
        var e = PVEError("Parameter verification failed.", status: 400)
        e.paramErrors = [name: message.hasSuffix("\n") ? message : message + "\n"]
        return e
    }
}
