import NIOCore

/// What the relay does about a stream's usage chunk.
struct UsagePlan: Sendable {
    /// Remove the final usage chunk before the client sees it: the gateway added `include_usage` upstream
    /// (``StreamUsageRequest``), the client did not ask for it.
    var strip: Bool
}

/// Finds the final usage chunk of an SSE stream (the event whose `choices` is empty and that has a `usage`
/// object, which engines send just before `data: [DONE]`), reads its usage, and removes it when asked to.
///
/// The data path stays lean: a chunk is searched for the bytes `"usage"` (which cannot occur unescaped
/// inside a JSON string, so token text never matches), and only an event that contains them is looked at
/// further; only that event's `usage` object is decoded. Everything else passes as it came.
///
/// So that an event split across two upstream reads can still be removed whole, the filter passes on
/// complete events only: bytes after the last event boundary of a read are held until the rest of their
/// event arrives (upstream reads almost always end on a boundary, so this holds nothing in practice; a
/// client cannot use half an event anyway). Past ``maxHeldBytes`` of an unterminated event the filter gives
/// up and passes everything through unchanged.
struct UsageFilter {
    /// The most bytes of one unfinished event held back.
    static let maxHeldBytes = 256 << 10

    let plan: UsagePlan
    /// The usage of the final usage chunk, once seen.
    private(set) var usage: ReportedUsage?
    /// The unfinished event at the end of the last read.
    private var held: ByteBuffer?
    private var passthrough = false

    init(plan: UsagePlan) { self.plan = plan }

    /// The bytes to write for an upstream read: `chunk` less any unfinished event at its end (plus what was
    /// held before), less the usage chunk when stripping. Nil when there is nothing to write yet.
    mutating func process(_ chunk: ByteBuffer) -> ByteBuffer? {
        if passthrough { return chunk }
        var buffer: ByteBuffer
        if var earlier = held {
            held = nil
            earlier.writeImmutableBuffer(chunk)
            buffer = earlier
        } else {
            buffer = chunk
        }
        let complete = buffer.withUnsafeReadableBytes { ServerSentEvents.endOfLastEvent(in: $0) }
        if complete < buffer.readableBytes {
            guard buffer.readableBytes - complete <= Self.maxHeldBytes else {
                passthrough = true  // not SSE as expected: stop looking
                return buffer
            }
            held = buffer.getSlice(at: buffer.readerIndex + complete, length: buffer.readableBytes - complete)
            guard complete > 0 else { return nil }
            buffer = buffer.getSlice(at: buffer.readerIndex, length: complete) ?? buffer
        }
        guard usage == nil else { return buffer }  // one final usage chunk per stream
        let found: (usage: ReportedUsage, event: Range<Int>)? = buffer.withUnsafeReadableBytes { bytes in
            var from = 0
            while let hit = JSONBytes.firstIndex(of: #""usage""#, in: bytes, from: from) {
                let event = ServerSentEvents.event(containing: hit, in: bytes)
                if let usage = ReportedUsage.finalChunk(UnsafeRawBufferPointer(rebasing: bytes[event])) {
                    return (usage, event)
                }
                from = event.upperBound
            }
            return nil
        }
        guard let found else { return buffer }
        usage = found.usage
        guard plan.strip else { return buffer }
        let base = buffer.readerIndex
        let before = buffer.getSlice(at: base, length: found.event.lowerBound)
        let after = buffer.getSlice(
            at: base + found.event.upperBound,
            length: buffer.readableBytes - found.event.upperBound
        )
        switch (before, after) {
        case (.some(var before), .some(let after)) where before.readableBytes > 0 && after.readableBytes > 0:
            before.writeImmutableBuffer(after)
            return before
        case (.some(let before), _) where before.readableBytes > 0:
            return before
        case (_, .some(let after)) where after.readableBytes > 0:
            return after
        default:
            return nil
        }
    }

    /// What is still held when the upstream body ended normally (an unterminated last event), to write as it
    /// is. A stream that failed drops it instead, so that the error event that ends it stands on its own.
    mutating func finish() -> ByteBuffer? {
        defer { held = nil }
        return held
    }
}

/// Event boundaries in server-sent events: an event ends with a blank line (`\n\n`, or `\r\n\r\n`).
enum ServerSentEvents {
    private static let lineFeed = UInt8(ascii: "\n")
    private static let carriageReturn = UInt8(ascii: "\r")

    /// The end of the boundary whose first line feed is at `index`, or nil if none is there.
    private static func boundaryEnd(at index: Int, in bytes: UnsafeRawBufferPointer) -> Int? {
        guard bytes[index] == lineFeed, index + 1 < bytes.count else { return nil }
        if bytes[index + 1] == lineFeed { return index + 2 }
        if bytes[index + 1] == carriageReturn, index + 2 < bytes.count, bytes[index + 2] == lineFeed {
            return index + 3
        }
        return nil
    }

    /// The index just past the last complete event in `bytes` (0 when there is none). O(1) when `bytes`
    /// ends on a boundary, as upstream reads almost always do.
    static func endOfLastEvent(in bytes: UnsafeRawBufferPointer) -> Int {
        var index = bytes.count - 2
        while index >= 0 {
            if let end = boundaryEnd(at: index, in: bytes) { return end }
            index -= 1
        }
        return 0
    }

    /// The range of the event that contains `index`, boundary included, within complete events.
    static func event(containing index: Int, in bytes: UnsafeRawBufferPointer) -> Range<Int> {
        var start = index
        while start > 0 {
            if bytes[start - 1] == lineFeed, start >= 2,
                bytes[start - 2] == lineFeed
                    || (start >= 3 && bytes[start - 2] == carriageReturn && bytes[start - 3] == lineFeed)
            {
                break
            }
            start -= 1
        }
        var end = index
        while end < bytes.count {
            if let boundary = boundaryEnd(at: end, in: bytes) { return start..<boundary }
            end += 1
        }
        return start..<bytes.count
    }
}
