/**
 * Transport security checks on a zone's settings and DNSSEC: SSL mode Full (strict), Always Use
 * HTTPS, a minimum TLS version of 1.2 or higher, and DNSSEC active. Each remediation is the exact
 * settings or DNSSEC request Cloudflare's API takes.
 */
import { Check, type Json } from "@plumbline/core"
import { Either } from "effect"
import { Permission } from "../Permissions.js"
import { Dnssec } from "../resources/Dnssec.js"
import { recordsOf, setting, zoneName } from "./Records.js"

/** A check that a zone setting has an acceptable value, fixed by PATCHing the setting. */
const settingCheck = (options: {
  readonly id: string
  readonly title: string
  readonly description: string
  readonly severity: Check.Severity
  readonly setting: string
  readonly accept: (value: Json.Json) => boolean
  readonly fix: Json.Json
  readonly summary: (zone: string, value: Json.Json | undefined) => string
}): Check.Check => ({
  id: options.id,
  title: options.title,
  description: options.description,
  severity: options.severity,
  scope: "zone",
  resources: ["zone_settings"],
  permissions: [Permission.ZoneSettingsRead],
  evaluate: (input) => {
    const zone = zoneName(input)
    const read = setting(input, options.setting)
    if (Either.isLeft(read)) return read.left
    const value = read.right
    const evidence = { zone, setting: options.setting, value: value ?? null }
    if (value !== undefined && options.accept(value)) return new Check.Pass({ evidence })
    return new Check.Fail({
      evidence,
      remediation: new Check.Remediation({
        summary: options.summary(zone, value),
        request: new Check.RemediationRequest({
          method: "PATCH",
          path: `/zones/${input.scope.id}/settings/${options.setting}`,
          body: { value: options.fix }
        })
      })
    })
  }
})

/** SSL mode Full (strict): the edge checks the origin's certificate. */
export const sslStrict = settingCheck({
  id: "cloudflare.tls.ssl-strict",
  title: "SSL mode is Full (strict)",
  description: "With Full (strict), Cloudflare encrypts traffic to the origin and checks its certificate.",
  severity: "high",
  setting: "ssl",
  accept: (value) => value === "strict",
  fix: "strict",
  summary: (zone, value) =>
    `Set the SSL mode of ${zone} to Full (strict) (it is ${JSON.stringify(value ?? "unknown")}) once the origin has a valid certificate.`
})

/** Always Use HTTPS: plain HTTP requests are redirected. */
export const alwaysUseHttps = settingCheck({
  id: "cloudflare.tls.always-use-https",
  title: "Always Use HTTPS is on",
  description: "Every plain HTTP request is redirected to HTTPS.",
  severity: "medium",
  setting: "always_use_https",
  accept: (value) => value === "on",
  fix: "on",
  summary: (zone) => `Turn on Always Use HTTPS for ${zone}.`
})

const TLS_VERSIONS = ["1.0", "1.1", "1.2", "1.3"]

/** Minimum TLS 1.2 or higher. */
export const minimumTls = settingCheck({
  id: "cloudflare.tls.minimum-version",
  title: "Minimum TLS version is 1.2 or higher",
  description: "TLS 1.0 and 1.1 are deprecated (RFC 8996); clients must use TLS 1.2 or later.",
  severity: "medium",
  setting: "min_tls_version",
  accept: (value) => typeof value === "string" && TLS_VERSIONS.indexOf(value) >= TLS_VERSIONS.indexOf("1.2"),
  fix: "1.2",
  summary: (zone, value) => `Raise the minimum TLS version of ${zone} from ${JSON.stringify(value ?? "unknown")} to 1.2.`
})

/** DNSSEC active. */
export const dnssec: Check.Check = {
  id: "cloudflare.dns.dnssec",
  title: "DNSSEC is active",
  description: "Signed DNS answers stop resolvers from accepting forged records for the zone.",
  severity: "medium",
  scope: "zone",
  resources: ["dnssec"],
  permissions: [Permission.DnsRead],
  evaluate: (input) => {
    const zone = zoneName(input)
    const read = recordsOf(input, "dnssec", Dnssec)
    if (Either.isLeft(read)) return read.left
    const status = read.right[0]?.status ?? null
    const evidence = { zone, status }
    if (status === "active") return new Check.Pass({ evidence })
    return new Check.Fail({
      evidence,
      remediation: new Check.Remediation({
        summary:
          status === "pending"
            ? `DNSSEC for ${zone} waits for the DS record at the registrar; add it there.`
            : `Enable DNSSEC for ${zone}, then add the DS record Cloudflare shows at the registrar.`,
        request: new Check.RemediationRequest({ method: "PATCH", path: `/zones/${input.scope.id}/dnssec`, body: { status: "active" } })
      })
    })
  }
}
