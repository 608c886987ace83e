public import PrefixRouter

extension GatewayConfiguration {
    /// Checks every value's range and the replicas' URLs, ids and models.
    ///
    /// - Parameter source: the file path or `"flags"`, named in the error.
    /// - Throws: ``GatewayConfigurationError`` naming the first offending field and what was expected.
    public func validate(source: String = "configuration") throws(GatewayConfigurationError) {
        func fail(_ field: String, _ message: String) -> GatewayConfigurationError {
            GatewayConfigurationError(source: source, field: field, message)
        }
        func require(
            _ condition: Bool,
            _ field: String,
            _ message: @autoclosure () -> String
        ) throws(GatewayConfigurationError) {
            if !condition { throw fail(field, message()) }
        }
        try require(!listen.host.isEmpty, "listen.host", "expected a host or address")
        try require((0...65_535).contains(listen.port), "listen.port", "expected 0...65535, found \(listen.port)")
        try require(listen.backlog >= 1, "listen.backlog", "expected at least 1, found \(listen.backlog)")
        try require(listen.idleTimeoutSeconds > 0, "listen.idleTimeoutSeconds", "expected a positive number")
        if let reserve = listen.reserveDescriptors {
            try require(
                (0...Int(Int32.max)).contains(reserve),
                "listen.reserveDescriptors",
                "expected 0 (off) ... \(Int32.max), found \(reserve)"
            )
        }

        try require(!replicas.isEmpty, "replicas", "expected at least one replica")
        var seen: [String: Int] = [:]
        for (position, replica) in replicas.enumerated() {
            let field = "replicas[\(position)]"
            let endpoint: ReplicaEndpoint
            do {
                endpoint = try ReplicaEndpoint(replica)
            } catch {
                throw fail("\(field).\(error.field)", error.message)
            }
            if let earlier = seen[endpoint.id.rawValue] {
                throw fail("\(field).id", "duplicate replica id \(endpoint.id) (also replicas[\(earlier)])")
            }
            seen[endpoint.id.rawValue] = position
            try require(!replica.models.isEmpty, "\(field).models", "expected at least one model name")
            for (index, model) in replica.models.enumerated() {
                try require(!model.isEmpty, "\(field).models[\(index)]", "expected a non-empty model name")
            }
            try require(
                (1...Replica.maximumWeight).contains(replica.weight),
                "\(field).weight",
                "expected 1...\(Replica.maximumWeight), found \(replica.weight)"
            )
            if let key = replica.apiKey {
                try require(
                    !key.isEmpty && key.allSatisfy(\.isASCII),
                    "\(field).apiKey",
                    "expected a non-empty ASCII key"
                )
            }
        }

        try require(
            PrefixHasher.blockSizeRange.contains(routing.blockSize),
            "routing.blockSize",
            "expected \(PrefixHasher.blockSizeRange.lowerBound)...\(PrefixHasher.blockSizeRange.upperBound), found \(routing.blockSize)"
        )
        do {
            try fleetConfiguration.validate()
        } catch {
            throw fail("routing", error.message)
        }
        try require(routing.keyDepthTokens >= 1, "routing.keyDepthTokens", "expected at least 1")
        try require(routing.cacheBlocksPerReplica >= 1, "routing.cacheBlocksPerReplica", "expected at least 1")
        try require(
            !routing.sessionHeader.isEmpty
                && routing.sessionHeader.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ":") },
            "routing.sessionHeader",
            "expected an HTTP header name"
        )
        if let placementAtRelease = routing.placementAtReleaseSeconds {
            try require(
                placementAtRelease >= 0 && placementAtRelease.isFinite,
                "routing.placementAtReleaseSeconds",
                "expected 0 (off) or more seconds, found \(placementAtRelease)"
            )
        }

        try require(
            admission.maxInFlight >= 1,
            "admission.maxInFlight",
            "expected at least 1, found \(admission.maxInFlight)"
        )
        try require(
            admission.perReplicaCap >= 1,
            "admission.perReplicaCap",
            "expected at least 1, found \(admission.perReplicaCap)"
        )
        try require(
            admission.maxBodyBytes >= 1_024,
            "admission.maxBodyBytes",
            "expected at least 1024, found \(admission.maxBodyBytes)"
        )
        try require(
            (1...60).contains(admission.retryAfterSeconds),
            "admission.retryAfterSeconds",
            "expected 1...60 (OpenAI's clients ignore longer waits), found \(admission.retryAfterSeconds)"
        )

        for (name, value) in [
            ("connectTimeoutSeconds", upstream.connectTimeoutSeconds),
            ("readTimeoutSeconds", upstream.readTimeoutSeconds),
            ("streamHeadTimeoutSeconds", upstream.streamHeadTimeoutSeconds),
            ("requestTimeoutSeconds", upstream.requestTimeoutSeconds),
        ] {
            try require(value > 0 && value.isFinite, "upstream.\(name)", "expected a positive number of seconds")
        }
        try require(
            (0...10).contains(upstream.retries),
            "upstream.retries",
            "expected 0...10, found \(upstream.retries)"
        )
        try require(upstream.maxResponseBytes >= 1_024, "upstream.maxResponseBytes", "expected at least 1024")

        for (index, key) in auth.apiKeys.enumerated() {
            try require(!key.isEmpty, "auth.apiKeys[\(index)]", "expected a non-empty key")
        }
        if let adminKey = auth.adminKey {
            try require(!adminKey.isEmpty, "auth.adminKey", "expected a non-empty key")
        }

        try require(health.path.hasPrefix("/"), "health.path", "expected a path starting with /")
        try require(health.intervalSeconds > 0, "health.intervalSeconds", "expected a positive number of seconds")
        try require(health.timeoutSeconds > 0, "health.timeoutSeconds", "expected a positive number of seconds")
        try require(health.unhealthyThreshold >= 1, "health.unhealthyThreshold", "expected at least 1")
        try require(health.healthyThreshold >= 1, "health.healthyThreshold", "expected at least 1")
        try require(health.passiveFailureThreshold >= 0, "health.passiveFailureThreshold", "expected 0 (off) or more")
        try require(health.ejectionSeconds > 0, "health.ejectionSeconds", "expected a positive number of seconds")
        try require((0...100).contains(health.maxEjectedPercent), "health.maxEjectedPercent", "expected 0...100")
        try require(health.slowStartSeconds >= 0, "health.slowStartSeconds", "expected 0 (off) or more seconds")
        try require(shutdown.gracePeriodSeconds >= 0, "shutdown.gracePeriodSeconds", "expected 0 or more seconds")
        try batch?.validate(source: source)
    }

    /// The library's fleet settings from ``routing``.
    public var fleetConfiguration: FleetConfiguration {
        FleetConfiguration(
            loadFactor: routing.loadFactor,
            virtualNodesPerWeight: routing.virtualNodesPerWeight,
            minimumCapacity: routing.minimumCapacity
        )
    }
}
