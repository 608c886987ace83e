/// A binary min-heap. O(log n) push and pop, O(1) peek.
struct MinHeap<Element: Comparable> {
    private(set) var elements: [Element] = []

    var isEmpty: Bool { elements.isEmpty }
    var count: Int { elements.count }
    var min: Element? { elements.first }

    mutating func push(_ element: Element) {
        elements.append(element)
        var child = elements.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard elements[child] < elements[parent] else { break }
            elements.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Element? {
        guard !elements.isEmpty else { return nil }
        elements.swapAt(0, elements.count - 1)
        let top = elements.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < elements.count, elements[left] < elements[smallest] { smallest = left }
            if right < elements.count, elements[right] < elements[smallest] { smallest = right }
            guard smallest != parent else { break }
            elements.swapAt(parent, smallest)
            parent = smallest
        }
        return top
    }
}

/// A replica's next event: the end of its current step or decode run. Ordered by time, then by the order
/// events were scheduled, so that simultaneous events are processed deterministically.
struct ReplicaEvent: Comparable {
    var time: Double
    var sequence: UInt64
    var replica: Int32
    var version: UInt32

    static func < (lhs: ReplicaEvent, rhs: ReplicaEvent) -> Bool {
        lhs.time != rhs.time ? lhs.time < rhs.time : lhs.sequence < rhs.sequence
    }
}

/// A running request waiting for its last decode step.
struct DecodeFinish: Comparable {
    var step: Int
    var request: Int32

    static func < (lhs: DecodeFinish, rhs: DecodeFinish) -> Bool {
        lhs.step != rhs.step ? lhs.step < rhs.step : lhs.request < rhs.request
    }
}
