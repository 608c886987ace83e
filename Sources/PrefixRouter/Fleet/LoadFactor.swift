/// The bounded-load factor `c`, held exactly in thousandths, and the capacity it gives.
///
/// Consistent hashing with bounded loads (Mirrokni, Thorup and Zadimoghaddam, "Consistent Hashing with
/// Bounded Loads", SODA 2018) caps every replica at `c` times its share of the load. The cap is computed here
/// once, in exact integer arithmetic, so that any implementation that follows the formula below (a Go or Rust
/// sidecar, another version of this library) makes the same placements bit for bit:
///
/// ```
/// capacity(w) = max(minimumCapacity, ⌈ k · (m + 1) · w ÷ (1000 · W) ⌉)
/// ```
///
/// where `k` is ``thousandths`` (`c × 1000`, an integer), `m` the requests in flight on the eligible replicas
/// (the `+ 1` counts the request being placed), `w` the replica's weight and `W` the eligible replicas' total
/// weight. The product is formed in 128 bits, so it cannot overflow; a quotient that does not fit in `Int`
/// saturates to `Int.max`. A replica accepts a request while its outstanding count is *below* its capacity.
///
/// For example `c = 1.1` (`k = 1100`), one replica, `m = 49`: `⌈1100 · 50 · 1 ÷ 1000⌉ = 55` (a floating-point
/// evaluation of `1.1 × 50` gives 55.000000000000007 and rounds up to 56).
public struct LoadFactor: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The accepted range of ``thousandths``: `c` from 1.001 to 100.
    public static let thousandthsRange = 1_001...100_000

    /// `c × 1000`, in ``thousandthsRange``.
    public let thousandths: Int

    /// Creates a load factor of `thousandths ÷ 1000`.
    ///
    /// - Throws: ``PrefixRouterError/Code/invalidLoadFactor`` outside ``thousandthsRange``.
    public init(thousandths: Int) throws(PrefixRouterError) {
        guard LoadFactor.thousandthsRange.contains(thousandths) else {
            throw PrefixRouterError(
                .invalidLoadFactor,
                "loadFactor: expected 1.001...100 (1001...100000 thousandths), found \(thousandths) thousandths"
            )
        }
        self.thousandths = thousandths
    }

    /// Creates a load factor from a decimal value, rounded to the nearest thousandth.
    ///
    /// - Throws: ``PrefixRouterError/Code/invalidLoadFactor`` when `value` is not finite or, once rounded, is
    ///   outside 1.001...100.
    public init(_ value: Double) throws(PrefixRouterError) {
        // Range-check the double before converting it: `Int(.greatestFiniteMagnitude)` would trap.
        guard value.isFinite, value >= 1, value <= 100,
            LoadFactor.thousandthsRange.contains(Int((value * 1_000).rounded()))
        else {
            throw PrefixRouterError(
                .invalidLoadFactor,
                "loadFactor: expected a finite number in 1.001...100 (greater than 1, in thousandths), found \(value)"
            )
        }
        self.thousandths = Int((value * 1_000).rounded())
    }

    /// The factor as a decimal number (for display; the capacity never uses it).
    public var value: Double { Double(thousandths) / 1_000 }

    /// A short textual form, for logs and messages.
    public var description: String { "\(value)" }

    /// Orders values by their raw value.
    public static func < (lhs: LoadFactor, rhs: LoadFactor) -> Bool { lhs.thousandths < rhs.thousandths }

    /// The bounded-load capacity `max(minimum, ⌈thousandths · (inFlight + 1) · weight ÷ (1000 · totalWeight)⌉)`.
    ///
    /// Returns `minimum` when `totalWeight` is not positive. Negative inputs count as zero.
    ///
    /// - Complexity: O(1): one 64 × 64 → 128-bit multiplication and one 128 ÷ 64-bit division.
    @inlinable
    public func capacity(inFlight: Int, weight: Int, totalWeight: Int, minimum: Int = 1) -> Int {
        guard totalWeight > 0, weight > 0 else { return minimum }
        // thousandths ≤ 100,000 and weight ≤ Replica.maximumWeight keep this product far below 2^63.
        let scaledWeight = UInt(thousandths) &* UInt(weight)
        let requests = UInt(Swift.max(0, inFlight)) &+ 1
        let numerator = scaledWeight.multipliedFullWidth(by: requests)
        let (denominator, overflow) = UInt(totalWeight).multipliedReportingOverflow(by: 1_000)
        guard !overflow, numerator.high < denominator else { return Int.max }
        let (quotient, remainder) = denominator.dividingFullWidth(numerator)
        let rounded = remainder == 0 ? quotient : quotient &+ 1
        guard rounded <= UInt(Int.max) else { return Int.max }
        return Swift.max(minimum, Int(rounded))
    }
}
