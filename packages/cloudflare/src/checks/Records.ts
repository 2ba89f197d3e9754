/**
 * Reading canonical Cloudflare records inside a posture check: typed views over the JSON the
 * snapshot holds, so each check states what it needs without re-declaring the connector's Schemas.
 */
import type { Check, Json } from "@plumbline/core"

/** A DNS record as the `dns_records` resource keeps it (only the fields checks read). */
export interface DnsRecord {
  readonly id: string
  readonly type: string
  readonly name: string
  readonly content: string
}

/** A zone setting as `zone_settings` keeps it. */
export interface ZoneSetting {
  readonly id: string
  readonly value: Json.Json
}

/** A rule as the ruleset resources keep it. */
export interface RulesetRule {
  readonly id: string
  readonly ruleset_id?: string
  readonly action: string
  readonly expression?: string
  readonly enabled: boolean
  readonly description?: string
}

/** The `ok` records of `resource` in the judged zone, typed as `A`. */
export const recordsOf = <A>(input: Check.CheckInput, resource: string): ReadonlyArray<A> =>
  input.records(resource).map((record) => record.value as unknown as A)

/** TXT content without the quotes Cloudflare keeps around it. */
export const txtContent = (record: DnsRecord): string => record.content.replace(/^"(.*)"$/s, "$1").replace(/"\s+"/g, "")

/** The value of a zone setting, if the snapshot has it. */
export const setting = (input: Check.CheckInput, id: string): Json.Json | undefined =>
  recordsOf<ZoneSetting>(input, "zone_settings").find((s) => s.id === id)?.value

/** The judged zone's name (the scope's name, falling back to its id). */
export const zoneName = (input: Check.CheckInput): string => input.scope.name ?? input.scope.id
