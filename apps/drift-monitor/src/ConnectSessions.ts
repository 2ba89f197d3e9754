/**
 * Connect sessions (issue #13): how the end customer's token reaches Plumbline without passing
 * through the product's servers. The product's backend opens a short-lived session for its customer
 * (API key); the session's token — high-entropy, shown once, kept only as a SHA-256 hash — goes to
 * the customer's browser, which verifies a Cloudflare token and completes the session with it
 * through the headless `/connect/api` routes. Completing creates the connection (or, for a reconnect
 * session, replaces the connection's credential) through `Connections`, records whose it is, and
 * consumes the session: its token opens nothing any more. A session also ends when it expires, and
 * allows a bounded number of verifications, so a stolen session token cannot be used to probe tokens.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto"
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { Store } from "@plumbline/core"
import { Clock, Effect, Redacted, Schema } from "effect"
import { Connections, type ConnectionsError, monitoredZones } from "./Connections.js"
import * as EndUsers from "./EndUsers.js"
import type * as Events from "./Events.js"
import * as Services from "./Services.js"
import { decode, Integer, type Row } from "./internal/Rows.js"

/** A request a connect session cannot satisfy. */
export class ConnectSessionError extends Schema.TaggedError<ConnectSessionError>()("ConnectSessionError", {
  /**
   * `not-found`: no such session (product API); `unauthorized`: the token opens no session, or its
   * session expired; `consumed`: the session was completed; `too-many-attempts`: the verification
   * budget is spent; `busy`: another request is completing it; `invalid`: the request cannot be
   * done (no token); `corrupt`: a stored session does not decode.
   */
  reason: Schema.Literal("not-found", "unauthorized", "consumed", "too-many-attempts", "busy", "invalid", "corrupt"),
  message: Schema.String
}) {}

/** A stored connect session (never its token). */
export interface Session {
  readonly id: string
  readonly endUser: EndUsers.EndUser
  /** The connection a reconnect session restores. */
  readonly reconnect: string | null
  /** Origins that may frame the connect page and receive its `postMessage`. */
  readonly allowedOrigins: ReadonlyArray<string>
  readonly returnUrl: string | null
  readonly createdAt: number
  readonly expiresAt: number
  readonly verifyAttempts: number
  readonly completedAt: number | null
  readonly connectionId: string | null
}

/** Where a session stands. */
export type Status = "pending" | "completed" | "expired"

/** A session's status at `now`. */
export const statusOf = (session: Session, now: number): Status =>
  session.completedAt !== null ? "completed" : now >= session.expiresAt ? "expired" : "pending"

/** What the product asks for. */
export interface NewSession {
  readonly endUser: { readonly id: string; readonly displayName?: string | undefined; readonly email?: string | undefined }
  readonly reconnect?: string | undefined
  readonly allowedOrigins?: ReadonlyArray<string> | undefined
  readonly returnUrl?: string | undefined
  readonly ttlSeconds?: number | undefined
}

/** A completed session: the connection and the zones it monitors. */
export interface Completed {
  readonly connectionId: string
  readonly zones: ReadonlyArray<Events.EventZone>
}

/** A session lives 30 minutes unless the product asks otherwise (60 s to 1 h). */
export const defaultTtlSeconds = 1800

/** Verifications a session allows; the next one is refused. */
export const maxVerifyAttempts = 10

/** How long a completion in progress holds its session (a process that died holding it frees it then). */
const claimLeaseMillis = 120_000

const idPattern = /^cs_[A-Za-z0-9_-]{22}$/

const hashOf = (token: string): Buffer => createHash("sha256").update(token, "utf8").digest()

const SessionRow = Schema.Struct({
  id: Schema.String,
  token_hash: Schema.String,
  end_user_id: Schema.String,
  end_user_display_name: Schema.NullOr(Schema.String),
  end_user_email: Schema.NullOr(Schema.String),
  reconnect: Schema.NullOr(Schema.String),
  allowed_origins: Schema.parseJson(Schema.Array(Schema.String)),
  return_url: Schema.NullOr(Schema.String),
  created_at: Integer,
  expires_at: Integer,
  verify_attempts: Integer,
  completed_at: Schema.NullOr(Integer),
  connection_id: Schema.NullOr(Schema.String)
})

const unknownSession = new ConnectSessionError({ reason: "unauthorized", message: "unknown or expired connect session" })

const make = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const store = yield* Store.Store
  const connections = yield* Connections

  const read = (id: string) =>
    Effect.gen(function* () {
      const found = (yield* sql<Row>`select * from drift_monitor_connect_sessions where id = ${id}`)[0]
      if (found === undefined) return null
      const row = yield* decode(
        SessionRow,
        (detail) => new ConnectSessionError({ reason: "corrupt", message: `connect session ${id}: ${detail}` })
      )(found)
      return {
        session: {
          id: row.id,
          endUser: { id: row.end_user_id, displayName: row.end_user_display_name, email: row.end_user_email },
          reconnect: row.reconnect,
          allowedOrigins: row.allowed_origins,
          returnUrl: row.return_url,
          createdAt: row.created_at,
          expiresAt: row.expires_at,
          verifyAttempts: row.verify_attempts,
          completedAt: row.completed_at,
          connectionId: row.connection_id
        } satisfies Session,
        tokenHash: row.token_hash
      }
    })

  /**
   * Makes (or restores) the connection with the pasted tokens — one, or several (one per zone, say):
   * the connection holds them all (issue #13 item 4). A reconnect session replaces the connection's
   * credentials with them, or (`mode: "add"`) adds them beside the others.
   */
  const connect = (
    session: Session,
    tokens: ReadonlyArray<string>,
    zones: ReadonlyArray<string> | undefined,
    mode: "replace" | "add" | undefined
  ) =>
    Effect.gen(function* () {
      const [token, ...moreTokens] = tokens
      if (token === undefined) return yield* new ConnectSessionError({ reason: "invalid", message: "tokens: paste at least one token" })
      if (session.reconnect === null) {
        const made = yield* connections.create({
          name: session.endUser.displayName ?? session.endUser.id,
          token,
          moreTokens,
          zones,
          endUser: session.endUser
        })
        return { overview: made, visible: made.visibleZones ?? [] }
      }
      const id = session.reconnect
      // A connection made without a session gets this session's end user, so its events say whose it is.
      const now = yield* Clock.currentTimeMillis
      if ((yield* EndUsers.of(id).pipe(Effect.provideService(SqlClient.SqlClient, sql))) === null) {
        yield* store.getConnection(id)
        yield* EndUsers.attach(id, session.endUser, now).pipe(Effect.provideService(SqlClient.SqlClient, sql))
      }
      const replaced = yield* connections.replaceCredential(id, tokens, mode)
      const overview = zones === undefined ? replaced : yield* connections.update(id, { zones })
      return { overview, visible: replaced.visibleZones ?? [] }
    })

  return {
    /** Opens a session; its token is returned only here, and only its hash is stored. */
    create: (input: NewSession) =>
      Effect.gen(function* () {
        // A reconnect session must name a connection that exists (the store's not-found otherwise).
        if (input.reconnect !== undefined) yield* store.getConnection(input.reconnect)
        const now = yield* Clock.currentTimeMillis
        const id = `cs_${randomBytes(16).toString("base64url")}`
        const token = Redacted.make(`${id}.${randomBytes(32).toString("base64url")}`)
        const expiresAt = now + (input.ttlSeconds ?? defaultTtlSeconds) * 1000
        const endUser: EndUsers.EndUser = {
          id: input.endUser.id,
          displayName: input.endUser.displayName ?? null,
          email: input.endUser.email ?? null
        }
        const allowedOrigins = [...new Set(input.allowedOrigins ?? [])]
        yield* sql`insert into drift_monitor_connect_sessions
          (id, token_hash, end_user_id, end_user_display_name, end_user_email, reconnect, allowed_origins, return_url, created_at, expires_at, verify_attempts)
          values (${id}, ${hashOf(Redacted.value(token)).toString("hex")}, ${endUser.id}, ${endUser.displayName}, ${endUser.email},
            ${input.reconnect ?? null}, ${JSON.stringify(allowedOrigins)}, ${input.returnUrl ?? null}, ${now}, ${expiresAt}, 0)`
        const session: Session = {
          id,
          endUser,
          reconnect: input.reconnect ?? null,
          allowedOrigins,
          returnUrl: input.returnUrl ?? null,
          createdAt: now,
          expiresAt,
          verifyAttempts: 0,
          completedAt: null,
          connectionId: null
        }
        return { session, token }
      }),

    /** A session by its public id (the product's status query; the connect page's framing policy). */
    get: (id: string): Effect.Effect<Session, ConnectSessionError | SqlError> =>
      Effect.flatMap(read(id), (found) =>
        found === null
          ? Effect.fail(new ConnectSessionError({ reason: "not-found", message: `connect session ${id} does not exist` }))
          : Effect.succeed(found.session)
      ),

    /**
     * The session a token opens: unknown tokens and expired sessions are `unauthorized`, a completed
     * one `consumed`. The token carries its session's id; its hash is compared in constant time.
     */
    authenticate: (token: Redacted.Redacted<string>): Effect.Effect<Session, ConnectSessionError | SqlError> =>
      Effect.gen(function* () {
        const value = Redacted.value(token)
        const dot = value.indexOf(".")
        const id = value.slice(0, dot)
        if (dot < 0 || !idPattern.test(id)) return yield* unknownSession
        const found = yield* read(id)
        if (found === null) return yield* unknownSession
        const expected = Buffer.from(found.tokenHash, "hex")
        const actual = hashOf(value)
        if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return yield* unknownSession
        const now = yield* Clock.currentTimeMillis
        switch (statusOf(found.session, now)) {
          case "completed":
            return yield* new ConnectSessionError({ reason: "consumed", message: "this connect session was completed; ask for a new one" })
          case "expired":
            return yield* unknownSession
          case "pending":
            return found.session
        }
      }),

    /** Counts a verification; more than `maxVerifyAttempts` in one session are refused. */
    countVerification: (session: Session): Effect.Effect<void, ConnectSessionError | SqlError> =>
      Effect.gen(function* () {
        const rows = yield* sql<Row>`update drift_monitor_connect_sessions
          set verify_attempts = verify_attempts + 1 where id = ${session.id} returning verify_attempts`
        const counted = yield* decode(
          Schema.Array(Schema.Struct({ verify_attempts: Integer })),
          (detail) => new ConnectSessionError({ reason: "corrupt", message: `connect session ${session.id}: ${detail}` })
        )(rows)
        // No row: the session vanished under us; refuse rather than verify uncounted.
        if ((counted[0]?.verify_attempts ?? Number.POSITIVE_INFINITY) > maxVerifyAttempts) {
          return yield* new ConnectSessionError({
            reason: "too-many-attempts",
            message: `at most ${maxVerifyAttempts} verifications per connect session; ask for a new session`
          })
        }
      }),

    /**
     * Completes a session: the connection is made (or restored), its end user recorded, and the
     * session consumed. Held while it runs, so two completions never make two connections; released
     * when it fails (a refused token), so the customer can try again.
     */
    complete: (
      session: Session,
      input: {
        readonly tokens: ReadonlyArray<string>
        readonly zones?: ReadonlyArray<string> | undefined
        readonly mode?: "replace" | "add" | undefined
      }
    ): Effect.Effect<Completed, ConnectSessionError | ConnectionsError | SqlError> =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const claimed = yield* sql`update drift_monitor_connect_sessions set claimed_at = ${now}
          where id = ${session.id} and completed_at is null and (claimed_at is null or claimed_at < ${now - claimLeaseMillis})
          returning id`
        if (claimed.length === 0) {
          const current = yield* read(session.id)
          return yield* current !== null && current.session.completedAt !== null
            ? new ConnectSessionError({ reason: "consumed", message: "this connect session was completed; ask for a new one" })
            : new ConnectSessionError({ reason: "busy", message: "this connect session is being completed by another request" })
        }
        const release = sql`update drift_monitor_connect_sessions set claimed_at = null where id = ${session.id} and claimed_at = ${now}`
        const { overview, visible } = yield* connect(session, input.tokens, input.zones, input.mode).pipe(
          Effect.onError(() => Effect.ignore(release))
        )
        const connectionId = overview.connection.id
        const done = yield* Clock.currentTimeMillis
        yield* sql`update drift_monitor_connect_sessions set completed_at = ${done}, connection_id = ${connectionId}, claimed_at = null
          where id = ${session.id}`
        return { connectionId, zones: monitoredZones(visible, overview.zones) } satisfies Completed
      })
  }
})

/**
 * The connect sessions service, on `Connections` and the app's database. `Default` builds it with
 * `Connections.Default` and the app's services (one shared instance of each, see `Services`); `DefaultWithoutDependencies` takes them from context (tests).
 */
export class ConnectSessions extends Effect.Service<ConnectSessions>()("@plumbline/drift-monitor/ConnectSessions", {
  effect: make,
  dependencies: [Connections.Default, Services.layer]
}) {}
