import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1
import PrefixRouter
import ServiceLifecycle

/// Active health checks as a ServiceLifecycle service: every interval, `GET <replica><health.path>` on each
/// replica (concurrently, each bounded by the check timeout); a 200 passes, anything else fails. The
/// ``ReplicaHealthBook`` turns results into markDown/markUp at the thresholds, and also lets passive
/// ejections expire when their time is up.
struct HealthChecker: Service {
    let core: GatewayCore
    let client: HTTPClient

    func run() async throws {
        let settings = core.configuration.health
        let tick = settings.activeChecks ? settings.intervalSeconds : min(1, settings.ejectionSeconds)
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                if settings.activeChecks { await checkAll(settings) }
                core.health.apply()
                try await Task.sleep(for: .milliseconds(Int64(tick * 1_000)))
            }
        }
    }

    private func checkAll(_ settings: HealthConfiguration) async {
        let directory = core.runtime.directory
        await withTaskGroup(of: Void.self) { group in
            for id in directory.order {
                guard let endpoint = directory.endpoints[id] else { continue }
                group.addTask {
                    let healthy = await check(endpoint, settings)
                    core.health.checked(endpoint.id, healthy: healthy)
                }
            }
        }
    }

    private func check(_ endpoint: ReplicaEndpoint, _ settings: HealthConfiguration) async -> Bool {
        var request = HTTPClientRequest(url: endpoint.url(settings.path))
        request.method = .GET
        if let authorization = endpoint.authorization {
            request.headers.add(name: "authorization", value: authorization)
        }
        do {
            let response = try await client.execute(
                request,
                timeout: .milliseconds(Int64(settings.timeoutSeconds * 1_000))
            )
            _ = try await response.body.collect(upTo: 64 * 1_024)
            return response.status.code == 200
        } catch {
            core.logger.debug("health check failed", metadata: ["replica": "\(endpoint.id)", "error": "\(error)"])
            return false
        }
    }
}
