/**
 * The lazily built DNS record map of generated scenarios: a zone's records are generated the
 * first time they are read.
 */
import type { DnsRecord } from "../../State.js"

/**
 * A map of DNS records that builds each zone's records the first time they are read, so that a
 * 100,000-record scenario costs nothing until a test touches it. Iterating the map builds all.
 */
export class LazyRecords extends Map<string, Array<DnsRecord>> {
  #pending: Map<string, () => Array<DnsRecord>>
  constructor(pending: Map<string, () => Array<DnsRecord>>) {
    super()
    this.#pending = pending
  }
  #materialize(key: string): void {
    const build = this.#pending.get(key)
    if (build !== undefined) {
      this.#pending.delete(key)
      super.set(key, build())
    }
  }
  #materializeAll(): void {
    for (const key of [...this.#pending.keys()]) this.#materialize(key)
  }
  override get(key: string): Array<DnsRecord> | undefined {
    this.#materialize(key)
    return super.get(key)
  }
  override has(key: string): boolean {
    return this.#pending.has(key) || super.has(key)
  }
  override set(key: string, value: Array<DnsRecord>): this {
    this.#pending.delete(key)
    return super.set(key, value)
  }
  override delete(key: string): boolean {
    const pending = this.#pending.delete(key)
    return super.delete(key) || pending
  }
  override get size(): number {
    return super.size + this.#pending.size
  }
  override entries(): MapIterator<[string, Array<DnsRecord>]> {
    this.#materializeAll()
    return super.entries()
  }
  override values(): MapIterator<Array<DnsRecord>> {
    this.#materializeAll()
    return super.values()
  }
  override keys(): MapIterator<string> {
    this.#materializeAll()
    return super.keys()
  }
  override forEach(cb: (value: Array<DnsRecord>, key: string, map: Map<string, Array<DnsRecord>>) => void, thisArg?: unknown): void {
    this.#materializeAll()
    super.forEach(cb, thisArg)
  }
  override [Symbol.iterator](): MapIterator<[string, Array<DnsRecord>]> {
    return this.entries()
  }
}
