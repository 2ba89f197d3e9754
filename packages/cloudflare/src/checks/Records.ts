/**
 * Reading canonical Cloudflare records inside a posture check. A snapshot holds records as JSON,
 * and a snapshot may come from another version of the connector or from a file someone edited, so
 * each record is decoded with its resource's own Schema rather than trusted: a record of another
 * shape makes the check an explicit `error` verdict naming the record and the field, never a
 * silently wrong pass or fail. A check returns the `Left` of a read as its verdict.
 */
import { Check, ConnectorError, type Json } from "@plumbline/core"
import { Either, Schema } from "effect"
import type * as DnsRecords from "../resources/DnsRecords.js"
import * as ZoneSettings from "../resources/ZoneSettings.js"

/** A read whose records all decoded, or the `error` verdict for the first that did not. */
export type Read<A> = Either.Either<A, Check.Errored>

/**
 * The `ok` records of `resource` in the judged zone, decoded with `schema` (the resource's own
 * canonical Schema); the first record that does not decode is an `error` verdict naming it.
 */
export const recordsOf = <A, I>(input: Check.CheckInput, resource: string, schema: Schema.Schema<A, I>): Read<ReadonlyArray<A>> => {
  const decode = Schema.decodeUnknownEither(schema)
  const decoded: Array<A> = []
  for (const record of input.records(resource)) {
    const result = decode(record.value)
    if (Either.isLeft(result)) {
      const failure = ConnectorError.decodeFailureFrom(result.left, {
        resource,
        scope: `record ${record.key}`,
        input: record.value
      })
      return Either.left(
        new Check.Errored({
          detail: `A ${resource} record does not have the shape this version of the connector reads (the snapshot may come from another version): ${failure.message}`
        })
      )
    }
    decoded.push(result.right)
  }
  return Either.right(decoded)
}

/** TXT content without the quotes Cloudflare keeps around it (a record without content has none). */
export const txtContent = (record: DnsRecords.DnsRecord): string =>
  (record.content ?? "").replace(/^"(.*)"$/s, "$1").replace(/"\s+"/g, "")

/** The value of a zone setting, if the snapshot has it. */
export const setting = (input: Check.CheckInput, id: string): Read<Json.Json | undefined> =>
  Either.map(recordsOf(input, "zone_settings", ZoneSettings.Setting), (settings) => settings.find((s) => s.id === id)?.value)

/** The judged zone's name (the scope's name, falling back to its id). */
export const zoneName = (input: Check.CheckInput): string => input.scope.name ?? input.scope.id
