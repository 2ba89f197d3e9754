/**
 * Helpers shared by the resource mappings: canonical records hold no `undefined` members (they are
 * JSON), and arrays whose order means nothing are sorted.
 */

/** Drops `undefined` members, deeply, so a record is plain JSON. */
export const compact = <A>(value: A): A => {
  if (Array.isArray(value)) return value.map(compact) as A
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {}
    for (const [key, member] of Object.entries(value)) if (member !== undefined) out[key] = compact(member)
    return out as A
  }
  return value
}

/** A sorted copy of a list of strings (`null`/absent stays absent). */
export const sorted = (values: ReadonlyArray<string> | null | undefined): Array<string> | undefined =>
  values === null || values === undefined ? undefined : [...values].sort()

/** `null` becomes absent. */
export const orUndefined = <A>(value: A | null | undefined): A | undefined => (value === null ? undefined : value)
