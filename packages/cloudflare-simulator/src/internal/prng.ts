/**
 * A small seeded pseudo-random generator (mulberry32) so that every generated scenario, id and
 * fault decision is reproducible from a seed. `Math.random` is never used by the simulator.
 */

/** A deterministic random source. */
export interface Prng {
  /** A float in [0, 1). */
  readonly next: () => number
  /** An integer in [0, n). */
  readonly int: (n: number) => number
  /** An integer in [min, max]. */
  readonly range: (min: number, max: number) => number
  /** One element of a non-empty array. */
  readonly pick: <A>(items: ReadonlyArray<A>) => A
  /** True with probability p. */
  readonly chance: (p: number) => boolean
  /** 32 lowercase hex characters, the shape of every Cloudflare id. */
  readonly hexId: () => string
  /** `length` characters from [A-Za-z0-9_-]. */
  readonly token: (length: number) => string
  /** A new independent generator derived from this one and a label. */
  readonly fork: (label: string) => Prng
}

const hashString = (s: string): number => {
  let h = 2166136261 >>> 0
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 16777619) >>> 0
  }
  return h >>> 0
}

const TOKEN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"

/** Builds a generator from a numeric or string seed. */
export const makePrng = (seed: number | string): Prng => {
  let state = (typeof seed === "number" ? (seed ^ 0x9e3779b9) : hashString(seed)) >>> 0
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (n: number): number => Math.floor(next() * n)
  const self: Prng = {
    next,
    int,
    range: (min, max) => min + int(max - min + 1),
    pick: <A>(items: ReadonlyArray<A>): A => items[int(items.length)] as A,
    chance: (p) => next() < p,
    hexId: () => {
      let out = ""
      for (let i = 0; i < 4; i++) out += (Math.floor(next() * 4294967296) >>> 0).toString(16).padStart(8, "0")
      return out
    },
    token: (length) => {
      let out = ""
      for (let i = 0; i < length; i++) out += TOKEN_ALPHABET[int(TOKEN_ALPHABET.length)]
      return out
    },
    fork: (label) => makePrng(hashString(`${label}:${Math.floor(next() * 4294967296)}`))
  }
  return self
}
