extension SimulationRun {
    /// One record per request, in trace order. O(requests).
    func requestRecords() -> [RequestRecord] {
        input.requests.indices.map { index in
            RequestRecord(
                index: index,
                arrival: input.arrivals[index],
                firstToken: firstTokenTimes[index],
                completion: completionTimes[index],
                promptTokens: input.requests[index].inputTokens,
                cachedTokens: cachedAtAdmission[index],
                replica: Int(servedBy[index]),
                gateway: Int(requestGateway[index]),
                prefillsInLastStep: Int(lastStepPrefills[index])
            )
        }
    }
}
