/**
 * Connections and their credentials: the `plumbline_connections` rows and, since migration 3, the
 * `plumbline_credentials` rows — several per connection — each sealed by the `Keyring` before any
 * SQL sees it and opened only by `credentialOf` / `credentialsOf` (and by key rotation). The
 * connection id, the credential id and the kind are bound in as additional authenticated data, so a
 * sealed credential copied into another row — of this connection or another — does not open.
 * Credentials moved there by migration 3 keep their old binding (connection id and kind, `aad =
 * 'connection'`) until `rotateKeys` re-seals them.
 */
import { randomBytes, randomUUID } from "node:crypto"
import * as SqlClient from "@effect/sql/SqlClient"
import { Credential, Json, Store } from "@plumbline/core"
import { Clock, DateTime, Effect, Either, Redacted, Schema } from "effect"
import { Keyring } from "../Keyring.js"
import type { Row } from "./shared.js"
import { bytes, decodeWith, failure, num, str, unavailable } from "./shared.js"

/** The store operations on connections and credentials. */
export type Connections = Pick<
  Store.Service,
  | "createConnection"
  | "getConnection"
  | "listConnections"
  | "updateConnection"
  | "replaceCredential"
  | "credentialOf"
  | "deleteConnection"
  | "rotateKeys"
  | "addCredential"
  | "updateCredential"
  | "removeCredential"
  | "listCredentials"
  | "credentialsOf"
>

const decodeSettings = decodeWith(Store.Settings)

/** Additional authenticated data of a credential sealed before migration 3: it opens only in its connection. */
const legacyAad = (connectionId: string, kind: string) => `plumbline/credential\u0000${connectionId}\u0000${kind}`

/** Additional authenticated data of a sealed credential: it opens only in its own row. */
export const credentialAad = (connectionId: string, credentialId: string, kind: string) =>
  `plumbline/credential/v2\u0000${connectionId}\u0000${credentialId}\u0000${kind}`

const decodeScopes = decodeWith(Schema.NullOr(Schema.Array(Schema.String)))

/** The connection operations on the `SqlClient` and `Keyring` in context. */
export const make: Effect.Effect<Connections, never, SqlClient.SqlClient | Keyring> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const keyring = yield* Keyring

  const connectionColumns = sql.literal(
    "id, connector_id, name, settings, status, credential_kind, credential_fingerprint, created_at, updated_at"
  )

  // The rows' JSON and enumerations are decoded by their schemas below, the rest are text and
  // numbers: the classes are built without validating them all over again (most of a run's reads).
  const toConnection = (row: Row): Either.Either<Store.Connection, Store.StoreError> => {
    const id = str(row.id)
    return Either.flatMap(decodeSettings(row.settings, "connection", id), (settings) => {
      const status = Schema.decodeUnknownEither(Store.ConnectionStatus)(row.status)
      if (Either.isLeft(status)) return Either.left(failure("corrupt", "connection", id, "unknown status"))
      return Either.right(
        new Store.Connection({
          id,
          connectorId: str(row.connector_id),
          name: str(row.name),
          settings,
          status: status.right,
          credentialKind: str(row.credential_kind),
          credentialFingerprint: str(row.credential_fingerprint),
          createdAt: DateTime.unsafeMake(num(row.created_at)),
          updatedAt: DateTime.unsafeMake(num(row.updated_at))
        }, true)
      )
    })
  }

  const connectionRow = (id: string) =>
    Effect.flatMap(
      sql<Row>`select ${connectionColumns} from plumbline_connections where id = ${id}`,
      (rows) => (rows[0] === undefined ? Effect.fail(failure("not-found", "connection", id)) : Effect.succeed(rows[0]))
    )

  const getConnection = (id: string) =>
    connectionRow(id).pipe(Effect.flatMap(toConnection), unavailable("connection"))

  const newCredentialId = () => `cr_${randomBytes(12).toString("base64url")}`

  const sealColumns = (connectionId: string, credentialId: string, credential: Credential.Credential) => {
    const sealed = keyring.seal(Redacted.value(credential.secret), credentialAad(connectionId, credentialId, credential.kind))
    return { key_id: sealed.keyId, sealed: Buffer.from(sealed.sealed), aad: "credential" }
  }

  const toCredential = (connectionId: string, row: Row): Either.Either<Store.ConnectionCredential, Store.StoreError> => {
    const id = str(row.id)
    return Either.flatMap(
      row.scopes === null || row.scopes === undefined ? Either.right(null) : decodeScopes(row.scopes, "credential", `${connectionId}/${id}`),
      (scopes) => {
        const status = Schema.decodeUnknownEither(Store.CredentialStatus)(row.status)
        if (Either.isLeft(status)) return Either.left(failure("corrupt", "credential", `${connectionId}/${id}`, "unknown status"))
        return Either.right(
          new Store.ConnectionCredential({
            id,
            kind: str(row.kind),
            fingerprint: str(row.fingerprint),
            status: status.right,
            scopes,
            createdAt: DateTime.unsafeMake(num(row.created_at)),
            updatedAt: DateTime.unsafeMake(num(row.updated_at))
          }, true)
        )
      }
    )
  }

  const openCredential = (connectionId: string, row: Row): Either.Either<Credential.Credential, Store.StoreError> => {
    const kind = str(row.kind)
    const keyId = str(row.key_id)
    const aad = str(row.aad) === "connection" ? legacyAad(connectionId, kind) : credentialAad(connectionId, str(row.id), kind)
    return Either.match(keyring.open({ keyId, sealed: bytes(row.sealed) }, aad), {
      onLeft: (why) =>
        Either.left(
          failure(
            "decryption-failed",
            "credential",
            connectionId,
            why === "unknown-key"
              ? `sealed with key "${keyId}", which is not configured`
              : `key "${keyId}" does not open the stored credential (other key material, or altered data)`
          )
        ),
      onRight: (secret) => Either.right(Credential.make(kind, secret))
    })
  }

  const credentialRows = (connectionId: string) =>
    sql<Row>`select * from plumbline_credentials where connection_id = ${connectionId} order by position, id`

  /**
   * The credential rows of a connection that exists (`not-found` otherwise). Every connection keeps at
   * least one credential, deleted with it in one transaction, so only an empty answer needs the
   * connection row to tell "no such connection" apart: one statement per read of a run, not two.
   */
  const knownCredentialRows = (connectionId: string) =>
    Effect.flatMap(credentialRows(connectionId), (rows) => (rows.length > 0 ? Effect.succeed(rows) : Effect.as(connectionRow(connectionId), rows)))

  /** Inserts a credential after the connection's others; returns its id. */
  const insertCredential = (connectionId: string, credential: Credential.Credential, scopes: ReadonlyArray<string> | null | undefined, now: number) =>
    Effect.gen(function* () {
      const id = newCredentialId()
      const last = yield* sql<Row>`select coalesce(max(position), 0) as position from plumbline_credentials where connection_id = ${connectionId}`
      yield* sql`insert into plumbline_credentials ${sql.insert({
        connection_id: connectionId,
        id,
        position: num(last[0]?.position ?? 0) + 1,
        kind: credential.kind,
        fingerprint: Credential.fingerprint(credential),
        ...sealColumns(connectionId, id, credential),
        status: "active",
        scopes: scopes == null ? null : Json.stringify([...scopes]),
        created_at: now,
        updated_at: now
      })}`
      return id
    })

  /** The connection row names its latest credential (kind and fingerprint), never its secret. */
  const nameLatest = (connectionId: string, credential: Credential.Credential, extra: Record<string, string>, now: number) =>
    sql`update plumbline_connections set ${sql.update({
      credential_kind: credential.kind,
      credential_fingerprint: Credential.fingerprint(credential),
      ...extra,
      updated_at: now
    })} where id = ${connectionId}`

  const credentialRow = (connectionId: string, credentialId: string) =>
    Effect.flatMap(
      sql<Row>`select * from plumbline_credentials where connection_id = ${connectionId} and id = ${credentialId}`,
      (rows) =>
        rows[0] === undefined
          ? Effect.fail(failure("not-found", "credential", `${connectionId}/${credentialId}`))
          : Effect.succeed(rows[0])
    )

  const createConnection = (input: Store.NewConnection) =>
    Effect.gen(function* () {
      const id = input.id ?? randomUUID()
      const now = yield* Clock.currentTimeMillis
      yield* sql.withTransaction(
        Effect.gen(function* () {
          // `on conflict do nothing returning` reports a taken id the same way, even under a concurrent insert.
          const inserted = yield* sql`insert into plumbline_connections ${sql.insert({
            id,
            connector_id: input.connectorId,
            name: input.name,
            settings: Json.stringify(input.settings ?? {}),
            status: "active",
            credential_kind: input.credential.kind,
            credential_fingerprint: Credential.fingerprint(input.credential),
            created_at: now,
            updated_at: now
          })} on conflict (id) do nothing returning id`
          if (inserted.length === 0) return yield* failure("conflict", "connection", id, "a connection with this id exists")
          yield* insertCredential(id, input.credential, input.credentialScopes, now)
        })
      )
      return yield* connectionRow(id).pipe(Effect.flatMap(toConnection))
    }).pipe(unavailable("connection"))

  const listConnections = sql<Row>`select ${connectionColumns} from plumbline_connections order by id`.pipe(
    Effect.flatMap((rows) => Effect.all(rows.map(toConnection))),
    unavailable("connection")
  )

  const updateConnection = (id: string, update: Store.ConnectionUpdate) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      yield* sql.withTransaction(
        Effect.gen(function* () {
          yield* connectionRow(id)
          yield* sql`update plumbline_connections set ${sql.update({
            ...(update.name === undefined ? {} : { name: update.name }),
            ...(update.settings === undefined ? {} : { settings: Json.stringify(update.settings) }),
            ...(update.status === undefined ? {} : { status: update.status }),
            updated_at: now
          })} where id = ${id}`
        })
      )
      return yield* connectionRow(id).pipe(Effect.flatMap(toConnection))
    }).pipe(unavailable("connection"))

  const replaceCredential = (id: string, credential: Credential.Credential, scopes?: ReadonlyArray<string> | null) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      yield* sql.withTransaction(
        Effect.gen(function* () {
          const row = yield* connectionRow(id)
          const status = row.status === "credential_expired" ? "active" : str(row.status)
          yield* insertCredential(id, credential, scopes, now)
          yield* sql`delete from plumbline_credentials where connection_id = ${id}
            and position < (select max(position) from plumbline_credentials where connection_id = ${id})`
          yield* nameLatest(id, credential, { status }, now)
        })
      )
      return yield* connectionRow(id).pipe(Effect.flatMap(toConnection))
    }).pipe(unavailable("connection"))

  const addCredential = (id: string, credential: Credential.Credential, scopes?: ReadonlyArray<string> | null) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const credentialId = yield* sql.withTransaction(
        Effect.gen(function* () {
          yield* connectionRow(id)
          const fingerprint = Credential.fingerprint(credential)
          const same = (yield* sql<Row>`select id from plumbline_credentials where connection_id = ${id} and fingerprint = ${fingerprint}`)[0]
          let credentialId: string
          if (same === undefined) {
            credentialId = yield* insertCredential(id, credential, scopes, now)
          } else {
            credentialId = str(same.id)
            yield* sql`update plumbline_credentials set ${sql.update({
              ...sealColumns(id, credentialId, credential),
              status: "active",
              ...(scopes === undefined ? {} : { scopes: scopes === null ? null : Json.stringify([...scopes]) }),
              updated_at: now
            })} where connection_id = ${id} and id = ${credentialId}`
          }
          yield* nameLatest(id, credential, {}, now)
          return credentialId
        })
      )
      return yield* credentialRow(id, credentialId).pipe(Effect.flatMap((row) => toCredential(id, row)))
    }).pipe(unavailable("credential"))

  const updateCredential = (id: string, credentialId: string, update: Store.CredentialUpdate) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      yield* credentialRow(id, credentialId)
      yield* sql`update plumbline_credentials set ${sql.update({
        ...(update.status === undefined ? {} : { status: update.status }),
        ...(update.scopes === undefined ? {} : { scopes: update.scopes === null ? null : Json.stringify([...update.scopes]) }),
        updated_at: now
      })} where connection_id = ${id} and id = ${credentialId}`
      return yield* credentialRow(id, credentialId).pipe(Effect.flatMap((row) => toCredential(id, row)))
    }).pipe(unavailable("credential"))

  const removeCredential = (id: string, credentialId: string) =>
    sql
      .withTransaction(
        Effect.gen(function* () {
          yield* credentialRow(id, credentialId)
          const all = yield* credentialRows(id)
          if (all.length <= 1) return yield* failure("invalid", "credential", `${id}/${credentialId}`, "a connection keeps at least one credential")
          yield* sql`delete from plumbline_credentials where connection_id = ${id} and id = ${credentialId}`
        })
      )
      .pipe(unavailable("credential"))

  const listCredentials = (id: string) =>
    Effect.gen(function* () {
      const rows = yield* knownCredentialRows(id)
      return yield* Effect.all(rows.map((row) => toCredential(id, row)))
    }).pipe(unavailable("credential"))

  const credentialsOf = (id: string) =>
    Effect.gen(function* () {
      const rows = yield* knownCredentialRows(id)
      return yield* Effect.all(
        rows.map((row) =>
          Effect.zipWith(toCredential(id, row), openCredential(id, row), (info, credential): Store.OpenCredential => ({ info, credential }))
        )
      )
    }).pipe(unavailable("credential"))

  const credentialOf = (id: string) =>
    Effect.gen(function* () {
      const rows = yield* knownCredentialRows(id)
      const row = rows.find((r) => r.status === "active") ?? rows[0]
      if (row === undefined) return yield* failure("not-found", "credential", id)
      return yield* openCredential(id, row)
    }).pipe(unavailable("credential"))

  const deleteConnection = (id: string) =>
    sql
      .withTransaction(
        Effect.gen(function* () {
          yield* connectionRow(id)
          yield* sql`delete from plumbline_credentials where connection_id = ${id}`
          yield* sql`delete from plumbline_connections where id = ${id}`
        })
      )
      .pipe(unavailable("connection"))

  const rotateKeys = sql
    .withTransaction(
      Effect.gen(function* () {
        const rows = yield* sql<Row>`select * from plumbline_credentials
          where key_id <> ${keyring.activeKeyId} or aad <> 'credential' order by connection_id, position, id`
        for (const row of rows) {
          const connectionId = str(row.connection_id)
          const credential = yield* openCredential(connectionId, row)
          yield* sql`update plumbline_credentials set ${sql.update(sealColumns(connectionId, str(row.id), credential))}
            where connection_id = ${connectionId} and id = ${str(row.id)}`
        }
        return rows.length
      })
    )
    .pipe(unavailable("credential"))

  return {
    createConnection,
    getConnection,
    listConnections,
    updateConnection,
    replaceCredential,
    credentialOf,
    deleteConnection,
    rotateKeys,
    addCredential,
    updateCredential,
    removeCredential,
    listCredentials,
    credentialsOf
  }
})
