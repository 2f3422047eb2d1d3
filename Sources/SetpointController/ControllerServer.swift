import Foundation
import Hummingbird
import HummingbirdCore
public import Logging
public import ServiceLifecycle

extension ControllerAPI {
    /// The API as a service of the controller's service group (graceful shutdown with it). `onListening` gets the
    /// bound port (port 0 picks a free one).
    public func server(host: String, port: Int, logger: Logger, onListening: @escaping @Sendable (Int) -> Void = { _ in }) -> any Service {
        let api = self
        let responder = CallbackResponder<BasicRequestContext> { request, _ in await api.respond(request) }
        return Application(
            responder: responder,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "setpoint-controller"),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? port) },
            logger: logger)
    }
}
