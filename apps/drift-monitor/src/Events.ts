/**
 * Domain events: what the monitor tells the product backend (as webhooks) and the dashboard (as a
 * live stream). Every event has a stable id derived from what it is about — a drift event's own id,
 * a hash of connection, snapshot and finding for a finding change, a hash of connection and
 * credential fingerprint for credential expiry and restoration — so producing it twice (a retried
 * job, a restart) never makes a second event, and receivers can deduplicate on `webhook-id`.
 *
 * The live stream (`Bus`) also carries what is not worth a webhook: snapshot progress and start/finish.
 */
import { createHash } from "node:crypto"
import type { Progress } from "@plumbline/core"
import { Check, Store } from "@plumbline/core"
import { Context, DateTime, Effect, Layer, PubSub, Schema } from "effect"
import type * as Json from "@plumbline/core/Json"
import type { EndUser } from "./EndUsers.js"

/** The webhook event types. */
export const EventType = Schema.Literal(
  "drift.detected",
  "finding.changed",
  "connection.credential_expired",
  "connection.restored",
  "connection.created"
)
export type EventType = typeof EventType.Type

/** Every event type, for validation and the API. */
export const eventTypes: ReadonlyArray<EventType> = EventType.literals

/** One domain event, as stored in the outbox and delivered. */
export interface DomainEvent {
  readonly id: string
  readonly type: EventType
  readonly connectionId: string
  /** ISO-8601 time the event happened. */
  readonly timestamp: string
  readonly data: { readonly [key: string]: Json.Json }
}

const hash = (...parts: ReadonlyArray<string>) =>
  createHash("sha256").update(parts.join("\u0000")).digest("hex").slice(0, 32)

const encodeDriftEvent = Schema.encodeSync(Store.DriftEvent)
const encodeFinding = Schema.encodeSync(Check.Finding)

/** A drift event, delivered with its own stable id. */
export const driftDetected = (event: Store.DriftEvent, connectionName: string): DomainEvent => ({
  id: event.id,
  type: "drift.detected",
  connectionId: event.connectionId,
  timestamp: DateTime.formatIso(event.detectedAt),
  data: { connectionName, ...(encodeDriftEvent(event) as unknown as { readonly [key: string]: Json.Json }) }
})

/** The id of a finding change: connection, snapshot and the finding's key. */
export const findingChangeId = (connectionId: string, snapshotId: string, findingKey: string): string =>
  hash(connectionId, snapshotId, findingKey)

/** A finding whose verdict changed (or a new failing finding). */
export const findingChanged = (input: {
  readonly snapshotId: string
  readonly connectionName: string
  readonly before: Check.Finding | undefined
  readonly after: Check.Finding
}): DomainEvent => ({
  id: findingChangeId(input.after.connectionId, input.snapshotId, input.after.key),
  type: "finding.changed",
  connectionId: input.after.connectionId,
  timestamp: DateTime.formatIso(input.after.evaluatedAt),
  data: {
    connectionId: input.after.connectionId,
    connectionName: input.connectionName,
    snapshotId: input.snapshotId,
    checkId: input.after.checkId,
    scope: input.after.scope.key,
    title: input.after.title,
    severity: input.after.severity,
    before: input.before?.verdict._tag ?? null,
    after: input.after.verdict._tag,
    finding: encodeFinding(input.after) as unknown as Json.Json
  }
})

/** The connection's credential was refused; snapshots are paused until a new one is supplied. */
export const credentialExpired = (input: {
  readonly connectionId: string
  readonly connectionName: string
  readonly credentialFingerprint: string
  readonly reason: string
  readonly message: string
  readonly at: Date
  /** Whose connection it is, when it was made through a connect session. */
  readonly endUser?: EndUser | null | undefined
  /** The zones that are no longer read (issue #13: only those of the refused credential, when it is one of several). */
  readonly zones?: ReadonlyArray<EventZone> | undefined
  /** `true` when other credentials keep the connection's other zones monitored. */
  readonly partial?: boolean | undefined
}): DomainEvent => ({
  id: hash(input.connectionId, "credential_expired", input.credentialFingerprint),
  type: "connection.credential_expired",
  connectionId: input.connectionId,
  timestamp: input.at.toISOString(),
  data: {
    connectionId: input.connectionId,
    connectionName: input.connectionName,
    reason: input.reason,
    message: input.message,
    ...(input.endUser == null ? {} : { endUser: { ...input.endUser } }),
    credentialFingerprint: input.credentialFingerprint,
    ...(input.zones === undefined ? {} : { zones: input.zones.map((z) => ({ ...z })) }),
    ...(input.partial === true ? { partial: true } : {})
  }
})

/** A new credential was supplied for an expired connection; snapshots resume. */
export const restored = (input: {
  readonly connectionId: string
  readonly connectionName: string
  readonly credentialFingerprint: string
  readonly at: Date
  /** Whose connection it is (`null`: made without a connect session). */
  readonly endUser?: EndUser | null | undefined
  /** The zones it monitors again. */
  readonly zones?: ReadonlyArray<EventZone> | undefined
}): DomainEvent => ({
  id: hash(input.connectionId, "restored", input.credentialFingerprint),
  type: "connection.restored",
  connectionId: input.connectionId,
  timestamp: input.at.toISOString(),
  data: {
    connectionId: input.connectionId,
    connectionName: input.connectionName,
    endUser: input.endUser == null ? null : { ...input.endUser },
    zones: (input.zones ?? []).map((z) => ({ ...z }))
  }
})

/** A zone an event names. */
export interface EventZone {
  readonly id: string
  readonly name: string
}

/** A connection was created (through the API or a connect session); its first snapshot starts. */
export const created = (input: {
  readonly connectionId: string
  readonly connectionName: string
  readonly endUser: EndUser | null
  readonly zones: ReadonlyArray<EventZone>
  readonly at: Date
}): DomainEvent => ({
  id: hash(input.connectionId, "created"),
  type: "connection.created",
  connectionId: input.connectionId,
  timestamp: input.at.toISOString(),
  data: {
    connectionId: input.connectionId,
    connectionName: input.connectionName,
    endUser: input.endUser === null ? null : { ...input.endUser },
    zones: input.zones.map((z) => ({ ...z }))
  }
})

/** The Standard Webhooks payload of an event: `{ type, timestamp, data }`. */
export const payloadOf = (event: DomainEvent): string =>
  JSON.stringify({ type: event.type, timestamp: event.timestamp, data: { id: event.id, ...event.data } })

// ---------------------------------------------------------------------------------------------
// The live stream

/** What the dashboard's live stream carries. */
export type LiveEvent =
  | { readonly type: "snapshot.started"; readonly connectionId: string; readonly at: string }
  | { readonly type: "progress"; readonly connectionId: string; readonly progress: Json.Json }
  | {
      readonly type: "snapshot.finished"
      readonly connectionId: string
      readonly at: string
      readonly outcome: "committed" | "unchanged" | "credential-invalid" | "failed"
      readonly snapshotId?: string | undefined
      readonly detail?: string | undefined
    }
  | { readonly type: "connection.status"; readonly connectionId: string; readonly status: string; readonly alert: string | null }
  | { readonly type: "event"; readonly connectionId: string; readonly event: { readonly id: string; readonly type: EventType } }

/** A progress event as JSON (scopes by key). */
export const progressJson = (event: Progress.ProgressEvent): Json.Json => {
  switch (event._tag) {
    case "ScopeStarted":
      return { _tag: event._tag, scope: event.scope.key, scopeName: event.scope.name ?? null }
    case "PageFetched":
      return { _tag: event._tag, resource: event.resource, scope: event.scope.key, page: event.page, items: event.items }
    case "ResourceFinished":
      return { _tag: event._tag, resource: event.resource, scope: event.scope.key, status: event.status, records: event.records }
  }
}

/** The in-process bus of live events. */
export class Bus extends Context.Tag("@plumbline/drift-monitor/Bus")<Bus, PubSub.PubSub<LiveEvent>>() {}

/** A bus that drops the oldest events for slow subscribers, never blocking a publisher. */
export const layerBus: Layer.Layer<Bus> = Layer.effect(Bus, PubSub.sliding<LiveEvent>(1024))

/** Publishes to the bus. */
export const publish = (event: LiveEvent): Effect.Effect<void, never, Bus> =>
  Effect.flatMap(Bus, (bus) => PubSub.publish(bus, event))
