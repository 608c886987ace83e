/// What one simulated replica is doing, and what it holds.
struct ReplicaState {
    enum Activity {
        /// Nothing to do.
        case idle
        /// A step that prefills ``ReplicaState/stepChunks`` (and advances every decoding request by a token).
        case step
        /// `steps` decode steps of `stepSeconds` each, started at `start`, with no prefill.
        case decodeRun(start: Double, stepSeconds: Double, steps: Int)
    }

    var cache: KVCache
    /// FIFO wait queue (request indices); `queueHead` is the next to admit.
    var queue: [Int32] = []
    var queueHead = 0
    /// Admitted requests whose prefill is not finished, in admission order.
    var prefilling: [Int32] = []
    /// The prefill chunks of the step in progress: request and tokens.
    var stepChunks: [(request: Int32, tokens: Int)] = []
    /// Decoding requests by the step count at which they finish.
    var decoders = MinHeap<DecodeFinish>()
    /// Prompt tokens of the decoding requests (the KV a decode step reads).
    var decodeContextTokens = 0
    /// Admitted requests (prefilling plus decoding).
    var running = 0
    /// Steps completed since the start (the decode clock).
    var steps = 0
    var activity = Activity.idle
    /// Bumped when the scheduled event is superseded.
    var version: UInt32 = 0

    init(cacheCapacity: Int) {
        cache = KVCache(capacity: cacheCapacity)
    }

    var queueIsEmpty: Bool { queueHead == queue.count }

    mutating func enqueue(_ request: Int32) {
        if queueHead > 1024, queueHead * 2 > queue.count {
            queue.removeFirst(queueHead)
            queueHead = 0
        }
        queue.append(request)
    }
}
