/**
 * Rendezvous (highest random weight) hashing: a key belongs to the shard that scores highest for
 * it. Adding a shard moves exactly the keys the new shard now scores highest for, from wherever
 * they were, and nothing else; removing one moves only its own keys. Shards are named, so their
 * order does not matter. The score mixes a 32-bit FNV-1a hash of the key with one of the shard's
 * name through murmur3's finaliser: cheap (well under a microsecond for a handful of shards) and
 * even enough that the skew report, not the hash, is what tells a bad shard key.
 */

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** murmur3's fmix32: every input bit flips each output bit with probability about one half. */
function mix(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A function giving the shard a key belongs to among `shards` (names; at least one). */
export function rendezvousOwner(shards: readonly string[]): (key: string) => string {
  // Sorted, so that ties (one in four billion) go to the same shard in every process.
  const weighted = [...shards].sort().map((name) => ({ name, seed: mix(fnv1a(name)) }));
  return (key) => {
    const keyHash = fnv1a(key);
    let best = weighted[0]!;
    let bestScore = -1;
    for (const shard of weighted) {
      const score = mix(keyHash ^ shard.seed);
      if (score > bestScore) {
        best = shard;
        bestScore = score;
      }
    }
    return best.name;
  };
}
