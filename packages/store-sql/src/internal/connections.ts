/**
 * Connections and their credentials: the `plumbline_connections` rows, with each credential sealed
 * by the `Keyring` before any SQL sees it and opened only by `credentialOf` (and by key rotation).
 * The connection id and credential kind are bound in as additional authenticated data, so a sealed
 * credential copied into another row does not open.
 */
import { randomUUID } from "node:crypto"
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
>

const decodeSettings = decodeWith(Store.Settings)

/** Additional authenticated data of a sealed credential: it opens only in its own row. */
const credentialAad = (connectionId: string, kind: string) => `plumbline/credential\u0000${connectionId}\u0000${kind}`

/** The connection operations on the `SqlClient` and `Keyring` in context. */
export const make: Effect.Effect<Connections, never, SqlClient.SqlClient | Keyring> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const keyring = yield* Keyring

  const connectionColumns = sql.literal(
    "id, connector_id, name, settings, status, credential_kind, credential_fingerprint, created_at, updated_at"
  )

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
        })
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

  const sealColumns = (id: string, credential: Credential.Credential) => {
    const sealed = keyring.seal(Redacted.value(credential.secret), credentialAad(id, credential.kind))
    return {
      credential_kind: credential.kind,
      credential_fingerprint: Credential.fingerprint(credential),
      credential_key_id: sealed.keyId,
      credential_sealed: Buffer.from(sealed.sealed)
    }
  }

  const openCredential = (id: string, row: Row): Either.Either<Credential.Credential, Store.StoreError> => {
    const kind = str(row.credential_kind)
    const keyId = str(row.credential_key_id)
    return Either.match(keyring.open({ keyId, sealed: bytes(row.credential_sealed) }, credentialAad(id, kind)), {
      onLeft: (why) =>
        Either.left(
          failure(
            "decryption-failed",
            "credential",
            id,
            why === "unknown-key"
              ? `sealed with key "${keyId}", which is not configured`
              : `key "${keyId}" does not open the stored credential (other key material, or altered data)`
          )
        ),
      onRight: (secret) => Either.right(Credential.make(kind, secret))
    })
  }

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
            ...sealColumns(id, input.credential),
            created_at: now,
            updated_at: now
          })} on conflict (id) do nothing returning id`
          if (inserted.length === 0) return yield* failure("conflict", "connection", id, "a connection with this id exists")
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

  const replaceCredential = (id: string, credential: Credential.Credential) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      yield* sql.withTransaction(
        Effect.gen(function* () {
          const row = yield* connectionRow(id)
          const status = row.status === "credential_expired" ? "active" : str(row.status)
          yield* sql`update plumbline_connections set ${sql.update({
            ...sealColumns(id, credential),
            status,
            updated_at: now
          })} where id = ${id}`
        })
      )
      return yield* connectionRow(id).pipe(Effect.flatMap(toConnection))
    }).pipe(unavailable("connection"))

  const credentialOf = (id: string) =>
    sql<Row>`select credential_kind, credential_key_id, credential_sealed from plumbline_connections where id = ${id}`.pipe(
      Effect.flatMap((rows) =>
        rows[0] === undefined ? Effect.fail(failure("not-found", "connection", id)) : openCredential(id, rows[0])
      ),
      unavailable("credential")
    )

  const deleteConnection = (id: string) =>
    sql
      .withTransaction(
        Effect.gen(function* () {
          yield* connectionRow(id)
          yield* sql`delete from plumbline_connections where id = ${id}`
        })
      )
      .pipe(unavailable("connection"))

  const rotateKeys = sql
    .withTransaction(
      Effect.gen(function* () {
        const rows = yield* sql<Row>`select id, credential_kind, credential_key_id, credential_sealed
          from plumbline_connections where credential_key_id <> ${keyring.activeKeyId} order by id`
        for (const row of rows) {
          const id = str(row.id)
          const credential = yield* openCredential(id, row)
          const sealed = keyring.seal(Redacted.value(credential.secret), credentialAad(id, credential.kind))
          yield* sql`update plumbline_connections set ${sql.update({
            credential_key_id: sealed.keyId,
            credential_sealed: Buffer.from(sealed.sealed)
          })} where id = ${id}`
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
    rotateKeys
  }
})
