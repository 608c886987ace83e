@_spi(Internals) import PrefixRouter
import Testing

@testable import _FleetSimulation

@Suite struct KVCacheTests {
    func hashes(_ ids: [Int]) -> [BlockHash] { ids.map(MooncakeLineParser.blockHash(ofID:)) }

    @Test func aHitIsTheLeadingRunOfComputedBlocks() {
        var cache = KVCache(capacity: 10)
        let admitted = cache.admit(hashes([1, 2, 3]), anonymous: 0, readyAt: 5)
        // Before the prefill ends the blocks are present but not hits.
        let early = cache.lookup(hashes([1, 2, 9]), anonymous: 0, now: 4)
        #expect(early.readyBlocks == 0)
        #expect(early.presentBlocks == 2)
        let later = cache.lookup(hashes([1, 2, 9, 3]), anonymous: 0, now: 5)
        #expect(later.readyBlocks == 2)
        #expect(later.presentBlocks == 2)  // block 3 is not leading: no hit after the first miss
        cache.release(admitted.entries, anonymous: admitted.anonymous)
        #expect(cache.pinnedBlocks == 0)
    }

    @Test func pinnedBlocksAreNeverEvictedAndTailsGoFirst() {
        var cache = KVCache(capacity: 4)
        let a = cache.admit(hashes([1, 2, 3]), anonymous: 0, readyAt: 0)
        cache.release(a.entries, anonymous: 0)
        let b = cache.admit(hashes([7]), anonymous: 0, readyAt: 0)  // fills the cache
        #expect(cache.usedBlocks == 4)
        // Room for two new blocks: the tail of request a (3, then 2) is evicted, its head (1) stays.
        let c = cache.admit(hashes([8, 9]), anonymous: 0, readyAt: 0)
        #expect(cache.lookup(hashes([1]), anonymous: 0, now: 0).readyBlocks == 1)
        #expect(cache.lookup(hashes([1, 2]), anonymous: 0, now: 0).readyBlocks == 1)
        #expect(cache.lookup(hashes([7]), anonymous: 0, now: 0).readyBlocks == 1)
        // Everything left is pinned or needed: a request needing 2 more blocks does not fit until releases.
        #expect(!cache.fits(newPins: 2))
        cache.release(b.entries, anonymous: 0)
        cache.release(c.entries, anonymous: 0)
        #expect(cache.fits(newPins: 4))
    }

    @Test func anOversizedRequestCachesWhatFits() {
        var cache = KVCache(capacity: 3)
        let admitted = cache.admit(hashes([1, 2, 3, 4, 5]), anonymous: 2, readyAt: 0)
        #expect(admitted.entries.count == 3)
        #expect(admitted.anonymous == 0)
        #expect(cache.usedBlocks == 3)
        cache.release(admitted.entries, anonymous: admitted.anonymous)
        #expect(cache.pinnedBlocks == 0)
    }

    @Test func anonymousBlocksTakeMemoryButNeverHit() {
        var cache = KVCache(capacity: 5)
        let admitted = cache.admit([], anonymous: 3, readyAt: 0)
        #expect(admitted.anonymous == 3)
        #expect(!cache.fits(newPins: 3))
        cache.release(admitted.entries, anonymous: admitted.anonymous)
        #expect(cache.fits(newPins: 5))
        #expect(cache.usedBlocks == 0)
    }
}
