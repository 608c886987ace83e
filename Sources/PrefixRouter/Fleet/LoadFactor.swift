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
        capacity(load: inFlight, adding: 1, weight: weight, totalWeight: totalWeight, minimum: minimum)
    }

    /// The bounded-load capacity for any additive load measure:
    /// `max(minimum, ⌈thousandths · (load + adding) · weight ÷ (1000 · totalWeight)⌉)`.
    ///
    /// `load` is the measure summed over the eligible replicas and `adding` the new request's share of it:
    /// 1 for the request count (``capacity(inFlight:weight:totalWeight:minimum:)``), its uncached prompt tokens
    /// for the pending-prefill measure (``LoadMeasure/pendingPrefillTokens``). Returns `minimum` when `weight` or
    /// `totalWeight` is not positive. Negative inputs count as zero; `load + adding` saturates at `Int.max`.
    ///
    /// - Complexity: O(1): one 64 × 64 → 128-bit multiplication and one 128 ÷ 64-bit division.
    @inlinable
    public func capacity(load: Int, adding: Int, weight: Int, totalWeight: Int, minimum: Int = 1) -> Int {
        guard totalWeight > 0, weight > 0 else { return minimum }
        // thousandths ≤ 100,000 and weight ≤ Replica.maximumWeight keep this product far below 2^63.
        let scaledWeight = UInt(thousandths) &* UInt(weight)
        let (sum, carry) = UInt(Swift.max(0, load)).addingReportingOverflow(UInt(Swift.max(0, adding)))
        let numerator = scaledWeight.multipliedFullWidth(by: carry ? UInt.max : sum)
        let (denominator, overflow) = UInt(totalWeight).multipliedReportingOverflow(by: 1_000)
        guard !overflow, numerator.high < denominator else { return Int.max }
        let (quotient, remainder) = denominator.dividingFullWidth(numerator)
        let rounded = remainder == 0 ? quotient : quotient &+ 1
        guard rounded <= UInt(Int.max) else { return Int.max }
        return Swift.max(minimum, Int(rounded))
    }
}

/// What a bounded-load walk counts as a replica's load (``Fleet/boundedLoadOwner(of:measure:requestTokens:)``).
///
/// Both bounds use the same exact formula (``LoadFactor/capacity(load:adding:weight:totalWeight:minimum:)``)
/// and the same rule: a replica accepts while its load is *below* its capacity.
public enum LoadMeasure: Hashable, Sendable {
    /// Outstanding requests (the default, and the paper's): capacity
    /// `max(minimumCapacity, ⌈k · (m + 1) · w ÷ (1000 · W)⌉)` for `m` requests in flight.
    case requests
    /// Pending prefill tokens (``Fleet/pendingPrefillTokens(of:)``: uncached prompt tokens of leases that have
    /// not reported a first token): capacity `max(1, ⌈k · (P + x) · w ÷ (1000 · W)⌉)` for `P` pending tokens on
    /// the eligible replicas and a request of `x` tokens. The floor is one token, so a replica with nothing to
    /// prefill always accepts; ``FleetConfiguration/minimumCapacity`` (a request count) does not apply.
    case pendingPrefillTokens
}
