/**
 * @plumbline/store-sql — the Plumbline store on SQL: SQLite as the embedded default and PostgreSQL,
 * one migration set, content-addressed snapshot records and credentials encrypted at rest.
 */
export * as Keyring from "./Keyring.js"
export * as Migrations from "./Migrations.js"
export * as PgStore from "./PgStore.js"
export * as SqliteStore from "./SqliteStore.js"
export * as SqlStore from "./SqlStore.js"
