/**
 * Zone settings, read in bulk (`GET /zones/{id}/settings`, one request instead of one per setting):
 * SSL mode, Always Use HTTPS, minimum TLS, TLS 1.3, security level, HSTS (`security_header`) and the
 * rest. Each setting is one record keyed by its id, holding its value as Cloudflare sends it.
 */
import { Json, Resource } from "@plumbline/core"
import { Schema } from "effect"
import * as Read from "../internal/read.js"
import { compact, Extra, extraOf, openStruct, orUndefined } from "../internal/records.js"
import * as Permissions from "../Permissions.js"

/**
 * A setting as Cloudflare sends it; members it does not name are kept (`extra`). `enabled` and
 * `time_remaining` (seconds left, e.g. of development mode) are in the official schema's setting
 * branches (`zones_zone_settings_response_collection`).
 */
export const SettingWire = openStruct({
  id: Schema.String,
  value: Json.Json,
  editable: Schema.optional(Schema.NullOr(Schema.Boolean)),
  enabled: Schema.optional(Schema.NullOr(Schema.Boolean)),
  time_remaining: Schema.optional(Schema.NullOr(Schema.Number)),
  modified_on: Schema.optional(Schema.NullOr(Schema.String))
})

/** The canonical setting record. */
export const Setting = Schema.Struct({
  id: Schema.String,
  value: Json.Json,
  editable: Schema.optional(Schema.Boolean),
  enabled: Schema.optional(Schema.Boolean),
  /** Counts down on its own: volatile. */
  time_remaining: Schema.optional(Schema.Number),
  modified_on: Schema.optional(Schema.String),
  extra: Extra
})
export type Setting = typeof Setting.Type

/** The settings a security review reads first (the others are kept too). */
export const SECURITY_SETTINGS = [
  "ssl",
  "always_use_https",
  "min_tls_version",
  "tls_1_3",
  "security_level",
  "security_header",
  "automatic_https_rewrites",
  "browser_check",
  "waf"
] as const

const NAME = "zone_settings"

/** The zone settings resource. */
export const resource = Resource.make({
  name: NAME,
  description: "Zone settings (SSL mode, Always Use HTTPS, minimum TLS, TLS 1.3, security level, HSTS, …)",
  scope: "zone",
  schema: Setting,
  identity: (s: Setting) => s.id,
  permissions: [Permissions.forResource(NAME)],
  volatile: ["/modified_on", "/time_remaining"],
  read: (scope) =>
    Read.all(NAME, scope, `/zones/${scope.id}/settings`, SettingWire, (w): Setting =>
      compact({
        id: w.id,
        value: w.value,
        editable: orUndefined(w.editable),
        enabled: orUndefined(w.enabled),
        time_remaining: orUndefined(w.time_remaining),
        modified_on: orUndefined(w.modified_on),
        extra: extraOf(w, SettingWire.fields)
      })
    )
})
