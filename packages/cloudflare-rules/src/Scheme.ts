/**
 * The field scheme: every field the engine knows, with its Rules-language type. Types follow
 * Cloudflare's fields catalogue (RULES-LANGUAGE.md §7) in wirefilter terms: `Bytes` is the docs'
 * "String", `Int` is "Number"/"Integer".
 */

/** A Rules-language type. */
export type Type = "Bytes" | "Int" | "Bool" | "Ip" | ArrayType | MapType

/** `Array<T>`. */
export interface ArrayType {
  readonly array: Type
}

/** `Map<T>` (string keys). */
export interface MapType {
  readonly map: Type
}

/** Builds `Array<T>`. */
export const arrayOf = (of: Type): ArrayType => ({ array: of })

/** Builds `Map<T>`. */
export const mapOf = (of: Type): MapType => ({ map: of })

/** Renders a type the way error messages show it, e.g. `Map<Array<Bytes>>`. */
export const formatType = (type: Type): string =>
  typeof type === "string"
    ? type
    : "array" in type
      ? `Array<${formatType(type.array)}>`
      : `Map<${formatType(type.map)}>`

/** Structural type equality. */
export const typeEquals = (a: Type, b: Type): boolean => {
  if (typeof a === "string" || typeof b === "string") return a === b
  if ("array" in a) return "array" in b && typeEquals(a.array, b.array)
  return "map" in b && typeEquals(a.map, b.map)
}

const S: Type = "Bytes"
const I: Type = "Int"
const B: Type = "Bool"
const IP: Type = "Ip"
const AS = arrayOf(S)
const AI = arrayOf(I)
const MAS = mapOf(AS)

const uriFields = (prefix: string): ReadonlyArray<readonly [string, Type]> => [
  [`${prefix}http.request.uri`, S],
  [`${prefix}http.request.uri.path`, S],
  [`${prefix}http.request.uri.path.extension`, S],
  [`${prefix}http.request.uri.query`, S],
  [`${prefix}http.request.full_uri`, S],
  [`${prefix}http.request.uri.args`, MAS],
  [`${prefix}http.request.uri.args.names`, AS],
  [`${prefix}http.request.uri.args.values`, AS]
]

const entries: ReadonlyArray<readonly [string, Type]> = [
  ["http.host", S],
  ["http.request.method", S],
  ["http.request.version", S],
  ["http.user_agent", S],
  ["http.referer", S],
  ["http.cookie", S],
  ["http.x_forwarded_for", S],
  ["http.request.headers", MAS],
  ["http.request.headers.names", AS],
  ["http.request.headers.values", AS],
  ["http.request.headers.truncated", B],
  ["http.request.cookies", MAS],
  ["http.request.accepted_languages", AS],
  ["http.request.timestamp.sec", I],
  ["http.request.timestamp.msec", I],
  ["http.request.body.raw", S],
  ["http.request.body.size", I],
  ["http.request.body.truncated", B],
  ["http.request.body.mime", S],
  ["http.request.body.form", MAS],
  ["http.request.body.form.names", AS],
  ["http.request.body.form.values", AS],
  ["http.request.body.multipart", MAS],
  ["http.request.body.multipart.names", arrayOf(AS)],
  ["http.request.body.multipart.values", AS],
  ["http.request.body.multipart.content_types", arrayOf(AS)],
  ["http.request.body.multipart.content_dispositions", arrayOf(AS)],
  ["http.request.body.multipart.content_transfer_encodings", arrayOf(AS)],
  ["http.request.body.multipart.filenames", arrayOf(AS)],
  ["http.request.jwt.claims", mapOf(AS)],
  ["http.request.jwt.claims.aud", mapOf(AS)],
  ["http.request.jwt.claims.aud.names", mapOf(AS)],
  ["http.request.jwt.claims.iat.sec", mapOf(AI)],
  ["http.request.jwt.claims.iat.sec.names", mapOf(AI)],
  ["http.request.jwt.claims.iss", mapOf(AS)],
  ["http.request.jwt.claims.iss.names", mapOf(AS)],
  ["http.request.jwt.claims.jti", mapOf(AS)],
  ["http.request.jwt.claims.jti.names", mapOf(AS)],
  ["http.request.jwt.claims.nbf.sec", mapOf(AI)],
  ["http.request.jwt.claims.nbf.sec.names", mapOf(AI)],
  ["http.request.jwt.claims.sub", mapOf(AS)],
  ["http.request.jwt.claims.sub.names", mapOf(AS)],
  ...uriFields(""),
  ...uriFields("raw."),
  ["ip.src", IP],
  ["ip.src.lat", S],
  ["ip.src.lon", S],
  ["ip.src.city", S],
  ["ip.src.postal_code", S],
  ["ip.src.metro_code", S],
  ["ip.src.region", S],
  ["ip.src.region_code", S],
  ["ip.src.timezone.name", S],
  ["ip.src.country", S],
  ["ip.src.continent", S],
  ["ip.src.asnum", I],
  ["ip.src.is_in_european_union", B],
  ["ip.src.subdivision_1_iso_code", S],
  ["ip.src.subdivision_2_iso_code", S],
  ["ip.geoip.country", S],
  ["ip.geoip.continent", S],
  ["ip.geoip.asnum", I],
  ["ip.geoip.is_in_european_union", B],
  ["ip.geoip.subdivision_1_iso_code", S],
  ["ip.geoip.subdivision_2_iso_code", S],
  ["ssl", B],
  ["cf.threat_score", I],
  ["cf.client.bot", B],
  ["cf.bot_management.score", I],
  ["cf.bot_management.verified_bot", B],
  ["cf.bot_management.static_resource", B],
  ["cf.bot_management.js_detection.passed", B],
  ["cf.bot_management.corporate_proxy", B],
  ["cf.bot_management.ja3_hash", S],
  ["cf.bot_management.ja4", S],
  ["cf.bot_management.detection_ids", AI],
  ["cf.verified_bot_category", S],
  ["cf.edge.server_port", I],
  ["cf.edge.server_ip", IP],
  ["cf.ray_id", S],
  ["cf.random_seed", S],
  ["cf.colo.id", I],
  ["cf.colo.name", S],
  ["cf.hostname.metadata", S],
  ["cf.worker.upstream_zone", S],
  // The zone a request is for: account-level rules scope themselves to zones with these
  // (https://developers.cloudflare.com/ruleset-engine/custom-rulesets/deploy-custom-ruleset/).
  ["cf.zone.name", S],
  ["cf.zone.plan", S],
  ["cf.waf.score", I],
  ["cf.waf.score.sqli", I],
  ["cf.waf.score.xss", I],
  ["cf.waf.score.rce", I],
  ["cf.waf.score.class", S],
  ["cf.waf.content_scan.has_obj", B],
  ["cf.waf.content_scan.has_malicious_obj", B],
  ["cf.waf.content_scan.num_malicious_obj", I],
  ["cf.waf.content_scan.has_failed", B],
  ["cf.waf.content_scan.num_obj", I],
  ["cf.waf.content_scan.obj_sizes", AI],
  ["cf.waf.content_scan.obj_types", AS],
  ["cf.waf.content_scan.obj_results", AS],
  ["cf.waf.credential_check.password_leaked", B],
  ["cf.waf.credential_check.username_and_password_leaked", B],
  ["cf.waf.credential_check.username_leaked", B],
  ["cf.waf.credential_check.username_password_similar", B],
  ["cf.waf.auth_detected", B],
  ["cf.llm.prompt.detected", B],
  ["cf.llm.prompt.pii_detected", B],
  ["cf.llm.prompt.pii_categories", AS],
  ["cf.llm.prompt.injection_score", I],
  ["cf.llm.prompt.unsafe_topic_detected", B],
  ["cf.llm.prompt.unsafe_topic_categories", AS],
  ["cf.tls_version", S],
  ["cf.tls_cipher", S],
  ["cf.tls_ciphers_sha1", S],
  ["cf.tls_client_hello_length", I],
  ["cf.tls_client_random", S],
  ["cf.tls_client_extensions_sha1", S],
  ["cf.tls_client_extensions_sha1_le", S],
  ["cf.tls_client_auth.cert_presented", B],
  ["cf.tls_client_auth.cert_verified", B],
  ["cf.tls_client_auth.cert_revoked", B],
  ["cf.tls_client_auth.cert_issuer_dn", S],
  ["cf.tls_client_auth.cert_subject_dn", S],
  ["cf.tls_client_auth.cert_issuer_dn_rfc2253", S],
  ["cf.tls_client_auth.cert_subject_dn_rfc2253", S],
  ["cf.tls_client_auth.cert_issuer_dn_legacy", S],
  ["cf.tls_client_auth.cert_subject_dn_legacy", S],
  ["cf.tls_client_auth.cert_serial", S],
  ["cf.tls_client_auth.cert_issuer_serial", S],
  ["cf.tls_client_auth.cert_fingerprint_sha256", S],
  ["cf.tls_client_auth.cert_fingerprint_sha1", S],
  ["cf.tls_client_auth.cert_not_before", S],
  ["cf.tls_client_auth.cert_not_after", S],
  ["cf.tls_client_auth.cert_ski", S],
  ["cf.tls_client_auth.cert_issuer_ski", S],
  ["cf.response.1xxx_code", I],
  ["cf.response.error_type", S],
  ["http.response.code", I],
  ["http.response.headers", MAS],
  ["http.response.headers.names", AS],
  ["http.response.headers.values", AS],
  ["http.response.content_type.media_type", S],
  ["cf.api_gateway.auth_id_present", B],
  ["cf.api_gateway.request_violates_schema", B],
  ["cf.api_gateway.fallthrough_detected", B],
  ["cf.timings.client_tcp_rtt_msec", I],
  ["cf.timings.edge_msec", I],
  ["cf.timings.origin_ttfb_msec", I]
]

/** Every known field, by name. */
export const fields: ReadonlyMap<string, Type> = new Map(entries)

/** The type of a field, or undefined when the name is not in the scheme. */
export const fieldType = (name: string): Type | undefined => fields.get(name)
