/**
 * Webhooks to the product backend: endpoints, an outbox of domain events, one delivery per event
 * and endpoint, and a dispatcher that sends them signed per the Standard Webhooks spec (the
 * `standardwebhooks` package: `webhook-id`, `webhook-timestamp`, `webhook-signature` over
 * `id.timestamp.body` with the endpoint's `whsec_` secret).
 *
 * Delivery is at-least-once: `enqueue` writes the event and its deliveries in the caller's
 * transaction (the snapshot commit), a delivery stays `pending` until an endpoint answers 2xx, and
 * a crash mid-attempt only means it is sent again with the same `webhook-id` (the event's stable
 * id). A failed attempt is retried with exponential backoff (`WebhookSettings`); after the last
 * attempt the delivery is `failed` and can be retried by hand. Every attempt's outcome is kept in
 * the delivery log, as a class only (`timeout`, `refused`, `status 500`, …; see `WebhookTransport`).
 *
 * Where a webhook may go is `WebhookTarget`'s policy, checked when an endpoint is added and again
 * on the resolved address of every send. A secret can be rotated: for `secretOverlap` (or until the
 * previous secret is dropped) deliveries carry a signature with each, so a receiver can switch over
 * without missing a delivery.
 */
import { randomBytes, randomUUID } from "node:crypto"
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { Store } from "@plumbline/core"
import type { Keyring } from "@plumbline/store-sql"
import { Clock, Context, Duration, Effect, Either, Layer, Queue, Redacted, Schema } from "effect"
import { Webhook } from "standardwebhooks"
import type { WebhookSettings } from "./Config.js"
import * as Events from "./Events.js"
import { decode, Integer, type Row, sqlDetail } from "./internal/Rows.js"
import * as WebhookTarget from "./WebhookTarget.js"
import { WebhookTransport } from "./WebhookTransport.js"

/** A webhook endpoint as the API shows it (never with its secret). */
export class Endpoint extends Schema.Class<Endpoint>("Endpoint")({
  id: Schema.String,
  url: Schema.String,
  description: Schema.String,
  eventTypes: Schema.Array(Events.EventType),
  enabled: Schema.Boolean,
  createdAt: Schema.String
}) {}

/** Where a delivery stands. */
export const DeliveryStatus = Schema.Literal("pending", "delivered", "failed")
export type DeliveryStatus = typeof DeliveryStatus.Type

/** One event to one endpoint, with the outcome of its last attempt. */
export class Delivery extends Schema.Class<Delivery>("Delivery")({
  id: Schema.String,
  endpointId: Schema.String,
  eventId: Schema.String,
  eventType: Events.EventType,
  status: DeliveryStatus,
  attempts: Schema.Number,
  nextAttemptAt: Schema.NullOr(Schema.String),
  lastAttemptAt: Schema.NullOr(Schema.String),
  lastStatus: Schema.NullOr(Schema.Number),
  lastError: Schema.NullOr(Schema.String),
  createdAt: Schema.String,
  deliveredAt: Schema.NullOr(Schema.String)
}) {}

/** A stored event of the outbox. */
export class StoredEvent extends Schema.Class<StoredEvent>("StoredEvent")({
  id: Schema.String,
  type: Events.EventType,
  connectionId: Schema.NullOr(Schema.String),
  timestamp: Schema.String,
  data: Schema.Unknown
}) {}

/** A page of a listing. */
export interface Page<A> {
  readonly items: ReadonlyArray<A>
  readonly next: string | null
}

/** Webhook failures the API reports. */
export class WebhookError extends Schema.TaggedError<WebhookError>()("WebhookError", {
  /** `corrupt`: a stored endpoint, delivery or event does not decode. */
  reason: Schema.Literal("not-found", "invalid", "unavailable", "corrupt"),
  message: Schema.String
}) {}

/** The backoff before attempt `attempt + 1` (attempt ≥ 1): `backoff · 2^(attempt−1)`, capped. */
export const backoffMillis = (settings: WebhookSettings, attempt: number): number =>
  Math.min(Duration.toMillis(settings.backoff) * 2 ** Math.max(0, attempt - 1), Duration.toMillis(settings.maxBackoff))

/**
 * Seals endpoint secrets at rest. The app uses the store's keyring (`sealWith`), so the database
 * alone reveals neither a provider token nor a signing secret.
 */
export interface SecretBox {
  readonly seal: (plaintext: string, aad: string) => string
  readonly open: (stored: string, aad: string) => string | undefined
}

/** A box over the store's keyring: `keyId:base64(iv ‖ tag ‖ ciphertext)`. */
export const sealWith = (keyring: Keyring.Service): SecretBox => ({
  seal: (plaintext, aad) => {
    const sealed = keyring.seal(plaintext, aad)
    return `${sealed.keyId}:${Buffer.from(sealed.sealed).toString("base64")}`
  },
  open: (stored, aad) => {
    const colon = stored.indexOf(":")
    if (colon <= 0) return undefined
    const opened = keyring.open({ keyId: stored.slice(0, colon), sealed: new Uint8Array(Buffer.from(stored.slice(colon + 1), "base64")) }, aad)
    return Either.isRight(opened) ? Redacted.value(opened.right) : undefined
  }
})

/** No sealing (tests). */
export const plainBox: SecretBox = { seal: (plaintext) => plaintext, open: (stored) => stored }

const aadOf = (endpointId: string) => `drift-monitor/webhook-endpoint/${endpointId}`

/** A fresh Standard Webhooks secret. */
export const generateSecret = (): string => `whsec_${randomBytes(24).toString("base64")}`

/**
 * Signs `payload` as Standard Webhooks headers; with several secrets (a rotation's overlap), the
 * signature header carries one `v1,…` entry per secret, space-separated, as the spec allows.
 */
export const sign = (secret: string | ReadonlyArray<string>, id: string, at: Date, payload: string): Record<string, string> => ({
  "webhook-id": id,
  "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
  "webhook-signature": (typeof secret === "string" ? [secret] : secret).map((s) => new Webhook(s).sign(id, at, payload)).join(" ")
})

const iso = (millis: number): string => new Date(millis).toISOString()
const isoOrNull = (millis: number | null): string | null => (millis === null ? null : iso(millis))

const corrupt = (what: string) => (detail: string) => new WebhookError({ reason: "corrupt", message: `${what}: ${detail}` })

/** An endpoint's subscribed event types, as stored: a JSON array. */
const StoredEventTypes = Schema.parseJson(Schema.Array(Events.EventType))

/** An endpoint row (the secret is read only where a delivery is signed). */
const EndpointRow = Schema.Struct({
  id: Schema.String,
  url: Schema.String,
  description: Schema.String,
  event_types: StoredEventTypes,
  enabled: Integer,
  created_at: Integer
})

const endpointOf = (row: Row) =>
  Effect.map(
    decode(EndpointRow, corrupt(`endpoint ${String(row["id"])}`))(row),
    (r) =>
      new Endpoint({
        id: r.id,
        url: r.url,
        description: r.description,
        eventTypes: r.event_types,
        enabled: r.enabled === 1,
        createdAt: iso(r.created_at)
      })
  )

const DeliveryRow = Schema.Struct({
  id: Schema.String,
  endpoint_id: Schema.String,
  event_id: Schema.String,
  event_type: Events.EventType,
  status: DeliveryStatus,
  attempts: Integer,
  next_attempt_at: Schema.NullOr(Integer),
  last_attempt_at: Schema.NullOr(Integer),
  last_status: Schema.NullOr(Integer),
  last_error: Schema.NullOr(Schema.String),
  created_at: Integer,
  delivered_at: Schema.NullOr(Integer)
})

const deliveryOf = (row: Row) =>
  Effect.map(
    decode(DeliveryRow, corrupt(`delivery ${String(row["id"])}`))(row),
    (r) =>
      new Delivery({
        id: r.id,
        endpointId: r.endpoint_id,
        eventId: r.event_id,
        eventType: r.event_type,
        status: r.status,
        attempts: r.attempts,
        nextAttemptAt: isoOrNull(r.next_attempt_at),
        lastAttemptAt: isoOrNull(r.last_attempt_at),
        lastStatus: r.last_status,
        lastError: r.last_error,
        createdAt: iso(r.created_at),
        deliveredAt: isoOrNull(r.delivered_at)
      })
  )

/** An event row of the outbox: its payload is the JSON `payloadOf` wrote. */
const EventRow = Schema.Struct({
  id: Schema.String,
  type: Events.EventType,
  connection_id: Schema.NullOr(Schema.String),
  payload: Schema.parseJson(Schema.Struct({ timestamp: Schema.String, data: Schema.Unknown }))
})

const eventOf = (row: Row) =>
  Effect.map(
    decode(EventRow, corrupt(`event ${String(row["id"])}`))(row),
    (r) => new StoredEvent({ id: r.id, type: r.type, connectionId: r.connection_id, timestamp: r.payload.timestamp, data: r.payload.data })
  )

const unavailable = (e: SqlError) => new WebhookError({ reason: "unavailable", message: `database: ${sqlDetail(e)}` })

const cursorSeq = (cursor: string | undefined): Either.Either<number | undefined, WebhookError> => {
  if (cursor === undefined) return Either.right(undefined)
  return Either.match(Store.decodeCursor(cursor, 1), {
    onLeft: () => Either.left(new WebhookError({ reason: "invalid", message: "cursor: not a cursor of this listing" })),
    onRight: ([seq]) => Either.right(Number(seq))
  })
}

/** The webhook service. */
export interface Service {
  /** Adds an endpoint; the secret is returned here once, for the backend to verify signatures. */
  readonly createEndpoint: (input: {
    readonly url: string
    readonly description?: string | undefined
    readonly eventTypes?: ReadonlyArray<Events.EventType> | undefined
  }) => Effect.Effect<{ readonly endpoint: Endpoint; readonly secret: string }, WebhookError>
  readonly listEndpoints: Effect.Effect<ReadonlyArray<Endpoint>, WebhookError>
  readonly deleteEndpoint: (id: string) => Effect.Effect<void, WebhookError>
  /**
   * Gives an endpoint a new secret, returned here once. The previous one keeps signing too (both
   * signatures on each delivery) for `secretOverlap`, or until `dropPreviousSecret`.
   */
  readonly rotateSecret: (id: string) => Effect.Effect<{ readonly endpoint: Endpoint; readonly secret: string; readonly previousValidUntil: string }, WebhookError>
  /** Ends a rotation's overlap now: deliveries are signed with the new secret only. */
  readonly dropPreviousSecret: (id: string) => Effect.Effect<void, WebhookError>
  /**
   * Writes events to the outbox with one delivery per subscribed endpoint, in the caller's
   * transaction. An endpoint whose subscriptions do not decode fails it (`corrupt`): better no commit
   * than a commit whose webhooks silently go nowhere.
   */
  readonly enqueue: (events: ReadonlyArray<Events.DomainEvent>) => Effect.Effect<void, SqlError | WebhookError>
  readonly deliveries: (query: {
    readonly endpointId?: string | undefined
    readonly status?: DeliveryStatus | undefined
    readonly eventId?: string | undefined
    readonly limit?: number | undefined
    readonly cursor?: string | undefined
  }) => Effect.Effect<Page<Delivery>, WebhookError>
  /** Sends a delivery again at once (a failed one gets a fresh set of attempts). */
  readonly redeliver: (id: string) => Effect.Effect<Delivery, WebhookError>
  readonly events: (query: {
    readonly connectionId?: string | undefined
    readonly type?: Events.EventType | undefined
    readonly limit?: number | undefined
    readonly cursor?: string | undefined
  }) => Effect.Effect<Page<StoredEvent>, WebhookError>
  /** Attempts every due delivery once; returns how many were attempted. */
  readonly dispatchDue: Effect.Effect<number, WebhookError>
  /** Wakes the dispatcher (new deliveries were enqueued). */
  readonly wake: Effect.Effect<void>
}

/** The webhooks. */
export class Webhooks extends Context.Tag("@plumbline/drift-monitor/Webhooks")<Webhooks, Service>() {}

/** Builds the service; `dispatcher` (below) runs the sending loop. */
export const make = (settings: WebhookSettings, box: SecretBox): Effect.Effect<Service & { readonly signal: Queue.Queue<void> }, never, SqlClient.SqlClient | WebhookTransport> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const transport = yield* WebhookTransport
    const signal = yield* Queue.sliding<void>(1)

    const enqueue: Service["enqueue"] = (events) =>
      Effect.gen(function* () {
        if (events.length === 0) return
        const now = yield* Clock.currentTimeMillis
        const rows = yield* sql<Row>`select id, event_types from drift_monitor_endpoints where enabled = 1`
        const endpoints = yield* Effect.forEach(rows, (row) =>
          decode(Schema.Struct({ id: Schema.String, event_types: StoredEventTypes }), corrupt(`endpoint ${String(row["id"])}`))(row)
        )
        for (const event of events) {
          yield* sql`insert into drift_monitor_events (id, type, connection_id, payload, created_at)
            values (${event.id}, ${event.type}, ${event.connectionId}, ${Events.payloadOf(event)}, ${now})
            on conflict (id) do nothing`
          for (const endpoint of endpoints) {
            if (!endpoint.event_types.includes(event.type)) continue
            yield* sql`insert into drift_monitor_deliveries
              (id, endpoint_id, event_id, event_type, status, attempts, next_attempt_at, created_at)
              values (${`dlv_${randomUUID()}`}, ${endpoint.id}, ${event.id}, ${event.type}, 'pending', 0, ${now}, ${now})
              on conflict (endpoint_id, event_id) do nothing`
          }
        }
      }).pipe(Effect.zipLeft(Queue.offer(signal, undefined)))

    /** One attempt of one delivery. */
    const attempt = (row: Row) =>
      Effect.gen(function* () {
        const id = String(row["id"])
        const eventId = String(row["event_id"])
        const payload = String(row["payload"])
        const attempts = Number(row["attempts"]) + 1
        const now = yield* Clock.currentTimeMillis
        const secret = box.open(String(row["secret"]), aadOf(String(row["endpoint_id"])))
        if (secret === undefined) {
          yield* sql`update drift_monitor_deliveries set status = 'failed', attempts = ${attempts}, next_attempt_at = null,
            last_attempt_at = ${now}, last_error = ${"the endpoint's signing secret cannot be opened with the configured keys"} where id = ${id}`
          return
        }
        // The rotated-out secret signs too while its overlap lasts.
        const previousUntil = row["previous_until"] === null || row["previous_until"] === undefined ? 0 : Number(row["previous_until"])
        const previous =
          row["previous_secret"] !== null && row["previous_secret"] !== undefined && previousUntil > now
            ? box.open(String(row["previous_secret"]), aadOf(String(row["endpoint_id"])))
            : undefined
        const headers = sign(previous === undefined ? [secret] : [secret, previous], eventId, new Date(now), payload)
        const outcome = yield* transport
          .send({
            url: new URL(String(row["url"])),
            headers: { ...headers, "user-agent": "plumbline-drift-monitor" },
            body: payload,
            timeout: settings.timeout
          })
          .pipe(Effect.either)
        const finished = yield* Clock.currentTimeMillis
        const ok = Either.isRight(outcome) && outcome.right >= 200 && outcome.right < 300
        const lastStatus = Either.isRight(outcome) ? outcome.right : null
        const lastError = ok ? null : Either.isLeft(outcome) ? outcome.left : `status ${outcome.right}`
        if (ok) {
          yield* sql`update drift_monitor_deliveries set status = 'delivered', attempts = ${attempts}, next_attempt_at = null,
            last_attempt_at = ${finished}, last_status = ${lastStatus}, last_error = null, delivered_at = ${finished} where id = ${id}`
        } else if (attempts >= settings.maxAttempts) {
          yield* sql`update drift_monitor_deliveries set status = 'failed', attempts = ${attempts}, next_attempt_at = null,
            last_attempt_at = ${finished}, last_status = ${lastStatus}, last_error = ${lastError} where id = ${id}`
        } else {
          const next = finished + backoffMillis(settings, attempts)
          yield* sql`update drift_monitor_deliveries set attempts = ${attempts}, next_attempt_at = ${next},
            last_attempt_at = ${finished}, last_status = ${lastStatus}, last_error = ${lastError} where id = ${id}`
        }
      })

    // Several processes may share the database: each claims the due deliveries it attempts by moving
    // them past the attempt's timeout, so no two send one at once, and a delivery whose sender died
    // is due again after that (at least once).
    const claimMillis = Duration.toMillis(settings.timeout) + 5_000
    const skipLocked = sql.onDialectOrElse({ pg: () => true, orElse: () => false })
    const dispatchDue: Service["dispatchDue"] = Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const claimed = yield* sql<Row>`update drift_monitor_deliveries set next_attempt_at = ${now + claimMillis}
        where id in (select id from drift_monitor_deliveries where status = 'pending' and next_attempt_at <= ${now}
          order by next_attempt_at, seq limit 100 ${sql.literal(skipLocked ? "for update skip locked" : "")})
        returning id`
      if (claimed.length === 0) return 0
      const due = yield* sql<Row>`select d.id, d.event_id, d.endpoint_id, d.attempts, e.url, e.secret, e.previous_secret, e.previous_until, ev.payload
        from drift_monitor_deliveries d
        join drift_monitor_endpoints e on e.id = d.endpoint_id
        join drift_monitor_events ev on ev.id = d.event_id
        where ${sql.in("d.id", claimed.map((r) => String(r["id"])))}
        order by d.seq`
      yield* Effect.forEach(due, attempt, { concurrency: 8, discard: true })
      return due.length
    }).pipe(Effect.mapError(unavailable))

    const getDelivery = (id: string) =>
      Effect.flatMap(sql<Row>`select * from drift_monitor_deliveries where id = ${id}`, (rows) =>
        rows[0] === undefined
          ? Effect.fail(new WebhookError({ reason: "not-found", message: `delivery ${id} does not exist` }))
          : deliveryOf(rows[0])
      )

    const service: Service = {
      createEndpoint: (input) =>
        Effect.gen(function* () {
          const parsed = WebhookTarget.parseUrl(input.url)
          if (Either.isLeft(parsed)) return yield* Effect.fail(new WebhookError({ reason: "invalid", message: parsed.left }))
          const url = parsed.right
          yield* Effect.mapError(transport.admit(url), (message) => new WebhookError({ reason: "invalid", message }))
          const types = input.eventTypes === undefined || input.eventTypes.length === 0 ? Events.eventTypes : input.eventTypes
          const id = `ep_${randomUUID()}`
          const secret = generateSecret()
          const now = yield* Clock.currentTimeMillis
          yield* sql`insert into drift_monitor_endpoints (id, url, description, secret, event_types, enabled, created_at)
            values (${id}, ${url.toString()}, ${input.description ?? ""}, ${box.seal(secret, aadOf(id))}, ${JSON.stringify([...new Set(types)])}, 1, ${now})`.pipe(
            Effect.mapError(unavailable)
          )
          const rows = yield* Effect.mapError(sql<Row>`select * from drift_monitor_endpoints where id = ${id}`, unavailable)
          const row = rows[0]
          if (row === undefined) return yield* Effect.fail(new WebhookError({ reason: "unavailable", message: `endpoint ${id} was not stored` }))
          return { endpoint: yield* endpointOf(row), secret }
        }),
      listEndpoints: Effect.flatMap(Effect.mapError(sql<Row>`select * from drift_monitor_endpoints order by created_at, id`, unavailable), (rows) =>
        Effect.forEach(rows, endpointOf)
      ),
      deleteEndpoint: (id) =>
        Effect.gen(function* () {
          const rows = yield* sql<Row>`select id from drift_monitor_endpoints where id = ${id}`
          if (rows.length === 0) return yield* Effect.fail(new WebhookError({ reason: "not-found", message: `endpoint ${id} does not exist` }))
          yield* sql`delete from drift_monitor_endpoints where id = ${id}`
        }).pipe(Effect.catchTag("SqlError", (e) => Effect.fail(unavailable(e)))),
      rotateSecret: (id) =>
        Effect.gen(function* () {
          const rows = yield* sql<Row>`select * from drift_monitor_endpoints where id = ${id}`
          const row = rows[0]
          if (row === undefined) return yield* Effect.fail(new WebhookError({ reason: "not-found", message: `endpoint ${id} does not exist` }))
          const current = box.open(String(row["secret"]), aadOf(id))
          if (current === undefined) {
            return yield* Effect.fail(new WebhookError({ reason: "corrupt", message: `endpoint ${id}: its signing secret cannot be opened with the configured keys` }))
          }
          const secret = generateSecret()
          const now = yield* Clock.currentTimeMillis
          const until = now + Duration.toMillis(settings.secretOverlap)
          yield* sql`update drift_monitor_endpoints set secret = ${box.seal(secret, aadOf(id))},
            previous_secret = ${box.seal(current, aadOf(id))}, previous_until = ${until} where id = ${id}`
          return { endpoint: yield* endpointOf(row), secret, previousValidUntil: iso(until) }
        }).pipe(Effect.catchTag("SqlError", (e) => Effect.fail(unavailable(e)))),
      dropPreviousSecret: (id) =>
        Effect.gen(function* () {
          const rows = yield* sql<Row>`select id from drift_monitor_endpoints where id = ${id}`
          if (rows.length === 0) return yield* Effect.fail(new WebhookError({ reason: "not-found", message: `endpoint ${id} does not exist` }))
          yield* sql`update drift_monitor_endpoints set previous_secret = null, previous_until = null where id = ${id}`
        }).pipe(Effect.catchTag("SqlError", (e) => Effect.fail(unavailable(e)))),
      enqueue,
      deliveries: (query) =>
        Effect.gen(function* () {
          const after = yield* cursorSeq(query.cursor)
          const limit = Math.min(Math.max(query.limit ?? 50, 1), 500)
          const conditions = [
            query.endpointId === undefined ? undefined : sql`endpoint_id = ${query.endpointId}`,
            query.status === undefined ? undefined : sql`status = ${query.status}`,
            query.eventId === undefined ? undefined : sql`event_id = ${query.eventId}`,
            after === undefined ? undefined : sql`seq < ${after}`
          ].filter((c) => c !== undefined)
          const rows = yield* sql<Row>`select * from drift_monitor_deliveries where ${sql.and(conditions)} order by seq desc limit ${limit + 1}`
          const items = rows.slice(0, limit)
          const last = items[items.length - 1]
          return {
            items: yield* Effect.forEach(items, deliveryOf),
            next: rows.length > limit && last !== undefined ? Store.encodeCursor([Number(last["seq"])]) : null
          }
        }).pipe(Effect.catchTag("SqlError", (e) => Effect.fail(unavailable(e)))),
      redeliver: (id) =>
        Effect.gen(function* () {
          yield* getDelivery(id)
          const now = yield* Clock.currentTimeMillis
          yield* sql`update drift_monitor_deliveries set status = 'pending', next_attempt_at = ${now},
            attempts = case when status = 'failed' then 0 else attempts end where id = ${id}`
          yield* Queue.offer(signal, undefined)
          return yield* getDelivery(id)
        }).pipe(Effect.catchTag("SqlError", (e) => Effect.fail(unavailable(e)))),
      events: (query) =>
        Effect.gen(function* () {
          const after = yield* cursorSeq(query.cursor)
          const limit = Math.min(Math.max(query.limit ?? 50, 1), 500)
          const conditions = [
            query.connectionId === undefined ? undefined : sql`connection_id = ${query.connectionId}`,
            query.type === undefined ? undefined : sql`type = ${query.type}`,
            after === undefined ? undefined : sql`seq < ${after}`
          ].filter((c) => c !== undefined)
          const rows = yield* sql<Row>`select * from drift_monitor_events where ${sql.and(conditions)} order by seq desc limit ${limit + 1}`
          const items = rows.slice(0, limit)
          const last = items[items.length - 1]
          return {
            items: yield* Effect.forEach(items, eventOf),
            next: rows.length > limit && last !== undefined ? Store.encodeCursor([Number(last["seq"])]) : null
          }
        }).pipe(Effect.catchTag("SqlError", (e) => Effect.fail(unavailable(e)))),
      dispatchDue,
      wake: Queue.offer(signal, undefined)
    }
    return { ...service, signal }
  })

/** The dispatcher loop: sends due deliveries, then waits for a wake-up or `pollEvery`. */
const dispatcher = (service: Service, signal: Queue.Queue<void>, settings: WebhookSettings) =>
  Effect.gen(function* () {
    for (;;) {
      const sent = yield* service.dispatchDue.pipe(
        Effect.catchAll((e) => Effect.as(Effect.logWarning(`webhook dispatch: ${e.message}`), 0))
      )
      if (sent === 0) {
        yield* Effect.race(Queue.take(signal), Effect.sleep(settings.pollEvery))
      }
    }
  })

/** The webhooks with their dispatcher running for the layer's lifetime. */
export const layer = (settings: WebhookSettings, box: SecretBox): Layer.Layer<Webhooks, never, SqlClient.SqlClient | WebhookTransport> =>
  Layer.scoped(
    Webhooks,
    Effect.gen(function* () {
      const { signal, ...service } = yield* make(settings, box)
      yield* Effect.forkScoped(dispatcher(service, signal, settings))
      return service
    })
  )

/** The webhooks without a dispatcher (tests drive `dispatchDue` themselves). */
export const layerManual = (settings: WebhookSettings, box: SecretBox = plainBox): Layer.Layer<Webhooks, never, SqlClient.SqlClient | WebhookTransport> =>
  Layer.effect(
    Webhooks,
    Effect.map(make(settings, box), ({ signal: _signal, ...service }) => service)
  )
