import Foundation
import MockEngine
import ServiceLifecycle

/// Runs a ``MockEngine`` as a ServiceLifecycle service: starts it, announces its port, stops it on shutdown.
struct EngineService: Service {
    let engine: MockEngine

    func run() async throws {
        let port = try await engine.start()
        let models = engine.configuration.models.joined(separator: ", ")
        // stdout, unbuffered (FileHandle writes at once) so that scripts can wait for this line.
        let line = "mock-engine listening on http://\(engine.configuration.host):\(port) serving \(models)\n"
        FileHandle.standardOutput.write(Data(line.utf8))
        try? await gracefulShutdown()
        await engine.stop()
    }
}
