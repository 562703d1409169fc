// A small seeded pseudo-random generator (mulberry32). Inventory generation,
// fault draws and deployment failures each take their own stream, derived from
// the simulator seed and a label, so one kind of draw never shifts another and a
// run repeats exactly for the same seed.

export class Prng {
  private state: number;

  constructor(seed: number, label = "") {
    this.state = mix(seed, label);
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, max). */
  int(max: number): number {
    return Math.floor(this.next() * max);
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("pick from an empty list");
    return items[this.int(items.length)] as T;
  }
}

function mix(seed: number, label: string): number {
  // FNV-1a over the label, folded with the seed, so "faults" and "deploy" differ.
  let h = (0x811c9dc5 ^ (Math.trunc(seed) >>> 0)) >>> 0;
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
