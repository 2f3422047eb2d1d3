import Foundation
import Hummingbird
import HummingbirdCore
public import Logging
public import ServiceLifecycle

extension ControllerAPI {
    /// The API as a service of the controller's service group (graceful shutdown with it). `onListening` gets the
    /// bound port (port 0 picks a free one). With ``tls``, every connection speaks TLS with the pair it holds when the
    /// connection is accepted.
    public func server(
        host: String,
        port: Int,
        logger: Logger,
        onListening: @escaping @Sendable (Int) -> Void = { _ in }
    ) -> any Service {
        // Every connection gets deadlines for its request head, its body and its idle waits, and counts against the
        // connection limit (ConnectionGuard); the accept loop backs off on EMFILE and goes on (NIO's AcceptBackoffHandler).
        // The guard's handlers sit after TLS, but count raw bytes at the front of the pipeline: a client that stalls in
        // the handshake meets the header timeout as one that stalls in its request head does.
        let registry = connections
        let http1 = HTTP1Channel.Configuration(additionalChannelHandlers: registry.handlers())
        let server: HTTPServerBuilder =
            if let tls {
                HTTPServerBuilder { responder in
                    ReloadingTLSChannel(
                        base: HTTP1Channel(responder: responder, configuration: http1),
                        certificates: tls
                    )
                }
            } else {
                .http1(configuration: http1)
            }
        return Application(
            router: router(),
            server: server,
            configuration: ApplicationConfiguration(
                address: .hostname(host, port: port),
                serverName: "setpoint-controller"
            ),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? port) },
            logger: logger
        )
    }
}

extension ConnectionLimits {
    /// Raises this process's soft open-file limit to its hard limit (as Go programs do at start) and returns it with
    /// the connections the API may hold within it: half the files, less 32 kept for the state store, tools and
    /// providers. Connections never take the files the rest of the controller needs.
    public static func openFileBudget() -> (files: Int, connections: Int) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return (1024, 480) }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        let files = Int(min(limit.rlim_cur, rlim_t(Int32.max)))
        return (files, max(8, files / 2 - 32))
    }
}
