import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOHTTP1

/// A parser error while a response was being written: the connection is closed without another response.
struct ResponseWriteError: Error {}

extension Hummingbird.Router<BasicRequestContext> {
    /// The router as `HTTP1Channel`'s responder, for connections ``GatewayServer`` hands to Hummingbird: what
    /// Hummingbird's `Application.run` builds around a router (a request id in the logger's metadata, a 500
    /// for an error the router did not turn into a response, the `Date` header), without its server.
    ///
    /// - Parameters:
    ///   - logger: the logger each request's context starts from.
    ///   - dates: the `Date` header's source.
    func http1Responder(logger: Logger, dates: HTTPDate) -> HTTPChannelHandler.Responder {
        let responder = buildResponder()
        return { request, responseWriter, channel in
            var logger = logger
            logger[metadataKey: "hb.request.id"] = .stringConvertible(RequestID())
            let context = BasicRequestContext(source: .init(channel: channel, logger: logger))
            var response: Response
            do {
                response = try await responder.respond(to: request, context: context)
            } catch let error as HTTPParserError {
                throw error
            } catch {
                logger.debug("Unrecognised Error", metadata: ["error.type": "\(error)"])
                response = Response(status: .internalServerError, body: .init())
            }
            response.headers[.date] = dates.now
            do {
                try await responseWriter.write(response: response.head, body: response.body)
            } catch is HTTPParserError {
                // Not rethrown as a parser error: Hummingbird would answer it with a second response (400).
                throw ResponseWriteError()
            }
        }
    }
}
