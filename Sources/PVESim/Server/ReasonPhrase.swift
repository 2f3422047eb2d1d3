import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1

/// PVE puts its error text in the status line (`HTTP/1.1 500 VM 100 already running`). HTTPTypes → HTTP/1 conversion
/// keeps only the standard phrase for standard codes, so the responder passes the text in a private header and this
/// handler, placed just before the HTTP/1 encoder, writes it into the status line.
final class ReasonPhraseWriter: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart
    static let header = "x-pve-sim-reason"

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        var part = unwrapOutboundIn(data)
        if case .head(var head) = part, let reason = head.headers.first(name: Self.header) {
            head.headers.remove(name: Self.header)
            head.status = .custom(code: head.status.code, reasonPhrase: reason)
            part = .head(head)
        }
        context.write(wrapOutboundOut(part), promise: promise)
    }
}

/// Added through Hummingbird's `additionalChannelHandlers` (which sit after the HTTPTypes conversion); on being
/// added it puts a `ReasonPhraseWriter` before the conversion, in the HTTP/1 part of the pipeline.
final class ReasonPhraseInstaller: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    func handlerAdded(context: ChannelHandlerContext) {
        let pipeline = context.pipeline.syncOperations
        if let codec = try? pipeline.handler(type: HTTP1ToHTTPServerCodec.self) {
            try? pipeline.addHandler(ReasonPhraseWriter(), position: .before(codec))
        }
    }
}
