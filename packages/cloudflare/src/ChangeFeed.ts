/**
 * The Cloudflare connector's change feed (core's `ChangeFeed`), in two modes, best first.
 *
 * `audit_log` reads each account's audit log — Audit Logs v2 (`GET /accounts/{a}/logs/audit`),
 * or v1 (`GET /accounts/{a}/audit_logs`) for an account where v2 is refused — from the position's
 * time minus an overlap (entries appear late), skipping the ids already seen in that overlap (kept
 * in the cursor), so an entry is announced once even when several share a timestamp at the
 * boundary. Entries map to marks through `AuditMapping`. Both endpoints need Account Settings Read;
 * without it the mode is refused (`forbidden`, naming the permission). A position older than the
 * log's retention (30 days) is refused (`retention`): the runner must take a full snapshot.
 *
 * `probes` compares cheap change markers with those kept in the cursor:
 * - the zones listing (`GET /zones`, 50 a page): a zone added or removed marks its account's
 *   `zones`; a moved `modified_on` marks the account's `zones` and the whole zone (plan and pause
 *   gate everything in it);
 * - per zone, one rulesets listing (`GET /zones/{z}/rulesets`): the `version` of each zone entry
 *   point; a moved version marks only the resource that reads that phase (WAF custom rules,
 *   managed rulesets, rate limiting, transforms, redirects, sensitive data).
 * Nothing else has a marker cheaper than the read itself (DNS records: no zone-level serial or
 * modification time in the API; settings, DNSSEC, page rules, Workers, IP access rules, legacy
 * firewall, lists: the listing *is* the read), so probes never mark them: the feed names them
 * (`unmarked`, `PROBES_UNMARKED`) and the runner re-reads them on its slower cadence, each zone at
 * its own turn. Account-level rules (`account_rules`) are among them: the zone-level listing does
 * not show account rulesets. A zone whose rulesets listing is refused has no marker either.
 */
import type { Snapshot } from "@plumbline/core"
import { ChangeFeed, type ConnectorError } from "@plumbline/core"
import { Chunk, Clock, DateTime, Effect, Either, Option, Schema, Stream } from "effect"
import * as AuditMapping from "./AuditMapping.js"
import * as CloudflareClient from "./CloudflareClient.js"
import * as Accounts from "./resources/Accounts.js"
import * as AccountRules from "./resources/AccountRules.js"
import * as Dnssec from "./resources/Dnssec.js"
import * as DnsRecords from "./resources/DnsRecords.js"
import * as IpAccessRules from "./resources/IpAccessRules.js"
import * as IpLists from "./resources/IpLists.js"
import * as LegacyFirewallRules from "./resources/LegacyFirewallRules.js"
import * as LegacyRateLimits from "./resources/LegacyRateLimits.js"
import * as PageRules from "./resources/PageRules.js"
import * as Workers from "./resources/Workers.js"
import * as ZoneSettings from "./resources/ZoneSettings.js"
import { callContext } from "./internal/context.js"
import { RULESETS_PER_PAGE, RulesetSummaryWire } from "./internal/shared.js"
import { Permission } from "./Permissions.js"
import * as Zones from "./resources/Zones.js"

/** How far before the position each read starts, for entries that appear late (seconds). */
export const OVERLAP_SECONDS = 300

/**
 * How long Cloudflare keeps audit log entries: 30 days for v2 (the API description: "Audit logs
 * are available only for the past 30 days"). We found no published figure for v1 and assume the
 * same, the shorter one: a stale position then leads to a full run, never to a silent gap.
 */
export const RETENTION_SECONDS = 30 * 24 * 3600

/** v2 `limit` per page (the schema's default is 100; we ask for more to keep requests down). */
export const V2_LIMIT = 1000
/** v1 `per_page`. */
export const V1_PER_PAGE = 1000
/** A read that pages more than this is treated as a feed failure, not looped on forever. */
const MAX_PAGES = 200

/**
 * The resources no probe marker covers: re-read on the slower cadence in probes mode. Every other
 * resource is `zones` (the zones listing) or reads a zone ruleset phase (the rulesets listing).
 */
export const PROBES_UNMARKED: ReadonlyArray<string> = [
  Accounts.resource.name,
  IpAccessRules.account.name,
  IpLists.lists.name,
  IpLists.items.name,
  Workers.scripts.name,
  ZoneSettings.resource.name,
  Dnssec.resource.name,
  DnsRecords.resource.name,
  AccountRules.resource.name,
  LegacyFirewallRules.rules.name,
  LegacyFirewallRules.filters.name,
  LegacyRateLimits.resource.name,
  IpAccessRules.zone.name,
  Workers.routes.name,
  Workers.customDomains.name,
  PageRules.resource.name
]

const AUDIT_PERMISSION = Permission.AccountSettingsRead
const PROBES_PERMISSION = Permission.ZoneRead

type Api = "v2" | "v1"

/** The audit-log cursor: which endpoint each account answers, and the ids seen in the overlap. */
const AuditCursor = Schema.Struct({
  kind: Schema.Literal("audit_log"),
  api: Schema.Record({ key: Schema.String, value: Schema.Literal("v2", "v1") }),
  seen: Schema.Array(Schema.Struct({ id: Schema.String, at: Schema.Number }))
})
type AuditCursor = typeof AuditCursor.Type

/** The probes cursor: each zone's account and `modified_on`, and each zone's entry-point versions by phase. */
const ProbeCursor = Schema.Struct({
  kind: Schema.Literal("probes"),
  zones: Schema.Record({ key: Schema.String, value: Schema.Struct({ account: Schema.String, modified_on: Schema.String }) }),
  rulesets: Schema.Record({ key: Schema.String, value: Schema.Record({ key: Schema.String, value: Schema.String }) }),
  unprobed: Schema.Array(Schema.String)
})
type ProbeCursor = typeof ProbeCursor.Type

const unavailable = (mode: ChangeFeed.FeedMode, reason: "forbidden" | "retention" | "unavailable", message: string, permission?: string) =>
  new ChangeFeed.FeedUnavailable({ mode, reason, message, ...(permission === undefined ? {} : { permission }) })

/** The mapping context from the previous snapshot's scopes. */
export const contextOf = (connectionId: string, previous: Snapshot.Snapshot): AuditMapping.Context => {
  const zoneAccount = new Map<string, string>()
  const zoneNames = new Map<string, string>()
  const accountZones = new Map<string, Array<string>>()
  for (const result of previous.results) {
    const scope = result.scope
    if (scope.kind !== "zone" || zoneAccount.has(scope.id)) continue
    const account = scope.attributes["account"] ?? (scope.parent?.startsWith("account:") === true ? scope.parent.slice("account:".length) : undefined)
    if (account === undefined) continue
    zoneAccount.set(scope.id, account)
    if (scope.name !== undefined) zoneNames.set(scope.name, scope.id)
    accountZones.set(account, [...(accountZones.get(account) ?? []), scope.id])
  }
  return {
    root: `connection:${connectionId}`,
    accountOfZone: (zone) => zoneAccount.get(zone),
    zonesOfAccount: (account) => accountZones.get(account) ?? [],
    zoneByName: (name) => zoneNames.get(name)
  }
}

/** The accounts of the previous snapshot (its `account` scopes). */
const accountsOf = (previous: Snapshot.Snapshot): ReadonlyArray<string> =>
  [...new Set(previous.results.filter((r) => r.scope.kind === "account").map((r) => r.scope.id))].sort()

const auditContext = (accountId: string): CloudflareClient.CallContext => ({ resource: "audit_log", scope: `account ${accountId}`, permission: AUDIT_PERMISSION })

const PageInfo = Schema.Struct({
  cursor: Schema.optional(Schema.NullOr(Schema.String)),
  cursors: Schema.optional(Schema.NullOr(Schema.Struct({ after: Schema.optional(Schema.NullOr(Schema.String)) }))),
  total_count: Schema.optional(Schema.NullOr(Schema.Number))
})
const decodeInfo = Schema.decodeUnknownOption(PageInfo)

/** One raw entry with its id and time (ms), as both shapes give them. */
interface Raw {
  readonly api: Api
  readonly value: unknown
  readonly id: string | undefined
  readonly at: number | undefined
}

const Identity = Schema.Struct({
  id: Schema.String,
  action: Schema.optional(Schema.NullOr(Schema.Struct({ time: Schema.optional(Schema.NullOr(Schema.String)) }))),
  when: Schema.optional(Schema.NullOr(Schema.String))
})
const decodeIdentity = Schema.decodeUnknownOption(Identity)

const rawOf = (api: Api, value: unknown): Raw =>
  Option.match(decodeIdentity(value), {
    onNone: () => ({ api, value, id: undefined, at: undefined }),
    onSome: (e) => {
      const time = (api === "v2" ? e.action?.time : e.when) ?? undefined
      const at = time === undefined ? Number.NaN : Date.parse(time)
      return { api, value, id: e.id, at: Number.isNaN(at) ? undefined : at }
    }
  })

const iso = (ms: number): string => new Date(ms).toISOString()

/** Every v2 entry of an account in [since, before), oldest first; counts requests. */
const readV2 = (accountId: string, since: number, before: number, limit: number) =>
  Effect.gen(function* () {
    const client = yield* CloudflareClient.CloudflareClient
    const out: Array<Raw> = []
    let cursor: string | undefined = undefined
    let requests = 0
    for (;;) {
      const answer: CloudflareClient.Answer<ReadonlyArray<unknown>> = yield* client.get(
        `/accounts/${accountId}/logs/audit`,
        { since: iso(since), before: iso(before), direction: "asc", limit, cursor },
        Schema.Array(Schema.Unknown),
        auditContext(accountId)
      )
      requests++
      out.push(...answer.result.map((v) => rawOf("v2", v)))
      const info: typeof PageInfo.Type | undefined = Option.getOrUndefined(decodeInfo(answer.resultInfo))
      cursor = (info?.cursor ?? info?.cursors?.after) ?? undefined
      if (cursor === undefined || cursor === "" || answer.result.length === 0) return { entries: out, requests }
      if (requests >= MAX_PAGES) return yield* Effect.fail(unavailable("audit_log", "unavailable", `The audit log of account ${accountId} has more than ${MAX_PAGES} pages in one read`))
    }
  })

/** Every v1 entry of an account in [since, before), oldest first; counts requests. */
const readV1 = (accountId: string, since: number, before: number, perPage: number) =>
  Effect.gen(function* () {
    const client = yield* CloudflareClient.CloudflareClient
    const out: Array<Raw> = []
    let requests = 0
    for (let page = 1; ; page++) {
      const answer = yield* client.get(
        `/accounts/${accountId}/audit_logs`,
        { since: iso(since), before: iso(before), direction: "asc", page, per_page: perPage },
        Schema.Array(Schema.Unknown),
        auditContext(accountId)
      )
      requests++
      out.push(...answer.result.map((v) => rawOf("v1", v)))
      const total = Option.getOrUndefined(decodeInfo(answer.resultInfo))?.total_count ?? undefined
      const done = answer.result.length < perPage || (total !== undefined && page * perPage >= total)
      if (done) return { entries: out, requests }
      if (requests >= MAX_PAGES) return yield* Effect.fail(unavailable("audit_log", "unavailable", `The audit log of account ${accountId} has more than ${MAX_PAGES} pages in one read`))
    }
  })

/** Is this a refusal that the other endpoint (or mode) may not have: 403, or not on the plan. */
const refused = (e: ConnectorError.ConnectorError | ChangeFeed.FeedUnavailable): boolean =>
  e._tag === "PermissionMissing" || e._tag === "NotAvailable"

/**
 * Reads one account with the endpoint it answered last (v2 first); a refused v2 falls back to v1,
 * a refused v1 refuses the mode.
 */
const readAccount = (accountId: string, preferred: Api, since: number, before: number, limits: { v2: number; v1: number }) => {
  const v1 = Effect.map(readV1(accountId, since, before, limits.v1), (r) => ({ ...r, api: "v1" as Api }))
  const v2 = Effect.map(readV2(accountId, since, before, limits.v2), (r) => ({ ...r, api: "v2" as Api }))
  const forbidden = unavailable(
    "audit_log",
    "forbidden",
    `The credential cannot read the audit log of account ${accountId}: grant "${AUDIT_PERMISSION}" for faster change detection`,
    AUDIT_PERMISSION
  )
  const viaV1 = v1.pipe(Effect.catchIf(refused, () => Effect.fail(forbidden)))
  // A v2 refusal costs one request: it is counted by adding it to v1's.
  const fromV2 = v2.pipe(Effect.catchIf(refused, () => Effect.map(viaV1, (r) => ({ ...r, requests: r.requests + 1 }))))
  return preferred === "v1" ? viaV1 : fromV2
}

/** Options of the feed. */
export interface Options {
  readonly overlapSeconds?: number
  readonly retentionSeconds?: number
  readonly v2Limit?: number
  readonly v1PerPage?: number
}

const auditChanges = (
  options: Required<Options>,
  input: Parameters<ChangeFeed.ChangeFeed<CloudflareClient.CloudflareClient>["changes"]>[0]
): Effect.Effect<ChangeFeed.Changes, ChangeFeed.FeedUnavailable | ConnectorError.ConnectorError, CloudflareClient.CloudflareClient> =>
  Effect.gen(function* () {
    const now = yield* Clock.currentTimeMillis
    const accounts = accountsOf(input.previous)
    if (accounts.length === 0) {
      return yield* Effect.fail(unavailable("audit_log", "forbidden", `The credential reads no account, so no audit log: grant "${AUDIT_PERMISSION}"`, AUDIT_PERMISSION))
    }
    const limits = { v2: options.v2Limit, v1: options.v1PerPage }
    const overlap = options.overlapSeconds * 1000
    if (Option.isNone(input.position)) {
      // Starting: one small read per account proves the permission and picks the endpoint.
      const probed = yield* Effect.forEach(accounts, (a) => Effect.map(readAccount(a, "v2", now - 1000, now, limits), (r) => [a, r] as const), {
        concurrency: 4
      })
      const position = new ChangeFeed.Position({
        mode: "audit_log",
        at: DateTime.unsafeMake(now),
        cursor: { kind: "audit_log", api: Object.fromEntries(probed.map(([a, r]) => [a, r.api])), seen: [] } satisfies AuditCursor
      })
      return new ChangeFeed.Changes({ position, marks: [], requestCount: probed.reduce((n, [, r]) => n + r.requests, 0) })
    }
    const previous = input.position.value
    const cursor = Schema.decodeUnknownEither(AuditCursor)(previous.cursor)
    if (previous.mode !== "audit_log" || Either.isLeft(cursor)) {
      return yield* Effect.fail(unavailable("audit_log", "unavailable", "The feed position is not an audit-log position; the next run must be full"))
    }
    const at = DateTime.toEpochMillis(previous.at)
    if (now - at > options.retentionSeconds * 1000) {
      return yield* Effect.fail(
        unavailable("audit_log", "retention", `The feed position (${iso(at)}) is older than the audit log's retention of ${Math.round(options.retentionSeconds / 86400)} days; the next run must be full`)
      )
    }
    const seen = new Set(cursor.right.seen.map((s) => s.id))
    const since = at - overlap
    // `before` a second ahead: entry times have second precision and must not fall just outside.
    const before = now + 1000
    const reads = yield* Effect.forEach(
      accounts,
      (a) => Effect.map(readAccount(a, cursor.right.api[a] ?? "v2", since, before, limits), (r) => [a, r] as const),
      { concurrency: 4 }
    )
    const context = contextOf(input.connectionId, input.previous)
    const marks: Array<ChangeFeed.Mark> = []
    const kept: Array<{ id: string; at: number }> = cursor.right.seen.filter((s) => s.at >= now - overlap)
    let newest: number | undefined = undefined
    for (const [, read] of reads) {
      for (const raw of read.entries) {
        if (raw.id !== undefined && seen.has(raw.id)) continue
        if (raw.id !== undefined) {
          seen.add(raw.id)
          kept.push({ id: raw.id, at: raw.at ?? now })
        }
        if (raw.at !== undefined) newest = newest === undefined ? raw.at : Math.max(newest, raw.at)
        marks.push(...entryMarks(raw, context))
      }
    }
    const position = new ChangeFeed.Position({
      mode: "audit_log",
      at: DateTime.unsafeMake(now),
      cursor: {
        kind: "audit_log",
        api: Object.fromEntries(reads.map(([a, r]) => [a, r.api])),
        seen: kept.filter((s) => s.at >= now - overlap)
      } satisfies AuditCursor
    })
    return new ChangeFeed.Changes({
      position,
      marks: AuditMapping.merge(marks),
      ...(newest === undefined ? {} : { lagSeconds: Math.max(0, (now - newest) / 1000) }),
      requestCount: reads.reduce((n, [, r]) => n + r.requests, 0)
    })
  })

/** An entry's marks; an entry that does not decode marks the whole connection. */
const entryMarks = (raw: Raw, context: AuditMapping.Context): ReadonlyArray<ChangeFeed.Mark> => {
  const decoded =
    raw.api === "v2"
      ? Either.map(Schema.decodeUnknownEither(AuditMapping.V2Entry)(raw.value), (e) => AuditMapping.marksOfV2(e, context))
      : Either.map(Schema.decodeUnknownEither(AuditMapping.V1Entry)(raw.value), (e) => AuditMapping.marksOfV1(e, context))
  return Either.getOrElse(decoded, () => [
    new ChangeFeed.Mark({ scope: context.root, reason: `an audit log entry${raw.id === undefined ? "" : ` (${raw.id})`} could not be read, so everything is re-read` })
  ])
}

/** The markers now: every zone's account and `modified_on`, and each zone's entry-point versions. */
const readMarkers = Effect.gen(function* () {
  const client = yield* CloudflareClient.CloudflareClient
  const zones = yield* Stream.runCollect(
    client.pages("/zones", { perPage: Zones.PER_PAGE, item: Zones.ZoneWire, key: (z) => z.id }, callContext(Zones.resource.name))
  ).pipe(
    Effect.map(Chunk.toReadonlyArray),
    Effect.catchIf(refused, () =>
      Effect.fail(unavailable("probes", "forbidden", `The credential cannot list zones: grant "${PROBES_PERMISSION}"`, PROBES_PERMISSION))
    )
  )
  let requests = Math.max(1, Math.ceil(zones.length / Zones.PER_PAGE))
  const perZone = yield* Effect.forEach(
    zones,
    (zone) =>
      Stream.runCollect(
        client.cursor(`/zones/${zone.id}/rulesets`, { style: "cursor", perPage: RULESETS_PER_PAGE, item: RulesetSummaryWire }, {
          resource: "rulesets",
          scope: `zone ${zone.name}`
        })
      ).pipe(
        Effect.map((chunk) => Option.some(Chunk.toReadonlyArray(chunk))),
        // No permission on this zone's rulesets: it has no marker, not an error.
        Effect.catchIf(refused, () => Effect.succeed(Option.none()))
      ),
    { concurrency: 4 }
  )
  const zoneMarkers: Record<string, { account: string; modified_on: string }> = {}
  const rulesets: Record<string, Record<string, string>> = {}
  const unprobed: Array<string> = []
  zones.forEach((zone, i) => {
    zoneMarkers[zone.id] = { account: zone.account.id, modified_on: zone.modified_on ?? "" }
    const listing = perZone[i] ?? Option.none()
    if (Option.isNone(listing)) {
      unprobed.push(zone.id)
      requests += 1
      return
    }
    requests += Math.max(1, Math.ceil(listing.value.length / RULESETS_PER_PAGE))
    const versions: Record<string, string> = {}
    for (const rs of listing.value) if (rs.kind === "zone") versions[rs.phase] = rs.version ?? rs.last_updated ?? ""
    rulesets[zone.id] = versions
  })
  const cursor: ProbeCursor = { kind: "probes", zones: zoneMarkers, rulesets, unprobed: unprobed.sort() }
  return { cursor, requests }
})

/** The marks between two sets of markers. */
export const probeMarks = (before: ProbeCursor, after: ProbeCursor): ReadonlyArray<ChangeFeed.Mark> => {
  const marks: Array<ChangeFeed.Mark> = []
  const zonesMark = (account: string, reason: string) => new ChangeFeed.Mark({ scope: `account:${account}`, resources: [Zones.resource.name], reason })
  for (const [id, now] of Object.entries(after.zones)) {
    const was = before.zones[id]
    if (was === undefined) marks.push(zonesMark(now.account, `zone ${id} appeared in the zones listing`))
    else if (was.modified_on !== now.modified_on) {
      const reason = `zone ${id}: modified_on moved from ${was.modified_on} to ${now.modified_on}`
      marks.push(zonesMark(now.account, reason), new ChangeFeed.Mark({ scope: `zone:${id}`, reason }))
    }
  }
  for (const [id, was] of Object.entries(before.zones)) {
    if (after.zones[id] === undefined) marks.push(zonesMark(was.account, `zone ${id} left the zones listing`))
  }
  for (const [zone, versions] of Object.entries(after.rulesets)) {
    const old = before.rulesets[zone]
    if (before.zones[zone] === undefined) continue // a new zone is read whole
    if (old === undefined) {
      marks.push(new ChangeFeed.Mark({ scope: `zone:${zone}`, resources: [...AuditMapping.RULESET_RESOURCES], reason: `zone ${zone}: rulesets could not be compared before` }))
      continue
    }
    for (const phase of new Set([...Object.keys(old), ...Object.keys(versions)])) {
      const resource = AuditMapping.RESOURCE_OF_PHASE[phase]
      if (resource === undefined || old[phase] === versions[phase]) continue
      marks.push(
        new ChangeFeed.Mark({
          scope: `zone:${zone}`,
          resources: [resource],
          reason: `zone ${zone}: the ${phase} entry point moved from version ${old[phase] ?? "none"} to ${versions[phase] ?? "none"}`
        })
      )
    }
  }
  return AuditMapping.merge(marks)
}

const probeChanges = (
  input: Parameters<ChangeFeed.ChangeFeed<CloudflareClient.CloudflareClient>["changes"]>[0]
): Effect.Effect<ChangeFeed.Changes, ChangeFeed.FeedUnavailable | ConnectorError.ConnectorError, CloudflareClient.CloudflareClient> =>
  Effect.gen(function* () {
    const previous = Option.getOrUndefined(input.position)
    const old = previous === undefined ? undefined : Schema.decodeUnknownEither(ProbeCursor)(previous.cursor)
    if (previous !== undefined && (previous.mode !== "probes" || old === undefined || Either.isLeft(old))) {
      return yield* Effect.fail(unavailable("probes", "unavailable", "The feed position is not a probes position; the next run must be full"))
    }
    const read = yield* readMarkers
    const now = yield* Clock.currentTimeMillis
    const position = new ChangeFeed.Position({ mode: "probes", at: DateTime.unsafeMake(now), cursor: read.cursor })
    const marks = old === undefined || Either.isLeft(old) ? [] : probeMarks(old.right, read.cursor)
    // Markers are read live: the feed is as fresh as the read.
    return new ChangeFeed.Changes({ position, marks, lagSeconds: 0, requestCount: read.requests })
  })

/** Builds the feed (options for tests and tuning). */
export const make = (options: Options = {}): ChangeFeed.ChangeFeed<CloudflareClient.CloudflareClient> => {
  const resolved: Required<Options> = {
    overlapSeconds: options.overlapSeconds ?? OVERLAP_SECONDS,
    retentionSeconds: options.retentionSeconds ?? RETENTION_SECONDS,
    v2Limit: options.v2Limit ?? V2_LIMIT,
    v1PerPage: options.v1PerPage ?? V1_PER_PAGE
  }
  return {
    modes: ["audit_log", "probes"],
    permissionFor: (mode) => (mode === "audit_log" ? AUDIT_PERMISSION : PROBES_PERMISSION),
    changes: (input) => (input.mode === "audit_log" ? auditChanges(resolved, input) : probeChanges(input)),
    // The audit log can mark every resource (an entry it cannot map marks its zone or account).
    unmarked: (mode) => (mode === "probes" ? PROBES_UNMARKED : [])
  }
}

/** The feed the connector declares. */
export const feed: ChangeFeed.ChangeFeed<CloudflareClient.CloudflareClient> = make()
