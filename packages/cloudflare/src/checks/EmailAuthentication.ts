/**
 * Email authentication checks on a zone's DNS: SPF (present, single, well-formed, ending in `-all`
 * or `~all`, within the 10-lookup limit of RFC 7208 §4.6.4) and DMARC (present, `p=quarantine` or
 * `p=reject`). Included SPF records cannot be fetched offline, so only the zone's own lookups are
 * counted; the evidence says so.
 */
import { Check } from "@plumbline/core"
import { Either } from "effect"
import { Permission } from "../Permissions.js"
import { DnsRecord } from "../resources/DnsRecords.js"
import { recordsOf, txtContent, zoneName } from "./Records.js"

/** Mechanisms and modifiers that cost a DNS lookup (RFC 7208 §4.6.4). */
const LOOKUP_TERMS = /^[+?~-]?(include:|a$|a:|a\/|mx$|mx:|mx\/|ptr$|ptr:|exists:|redirect=)/i

/** What is wrong with an SPF record, if anything. */
export const spfProblems = (spf: string): ReadonlyArray<string> => {
  const terms = spf.trim().split(/\s+/)
  const problems: Array<string> = []
  if (terms[0]?.toLowerCase() !== "v=spf1") problems.push("it does not start with v=spf1")
  const lookups = terms.filter((t) => LOOKUP_TERMS.test(t)).length
  if (lookups > 10) problems.push(`it needs ${lookups} DNS lookups (at most 10)`)
  const all = terms.find((t) => /^[+?~-]?all$/i.test(t))
  const redirect = terms.some((t) => /^redirect=/i.test(t))
  if (all === undefined && !redirect) problems.push("it has no all mechanism")
  else if (all !== undefined && !/^[~-]all$/i.test(all)) problems.push(`it ends in ${all}, which lets anyone send as the domain`)
  if (all !== undefined && terms[terms.length - 1] !== all) problems.push("terms follow the all mechanism and are never used")
  return problems
}

const dnsRecordRequest = (zoneId: string, name: string, content: string) =>
  new Check.RemediationRequest({ method: "POST", path: `/zones/${zoneId}/dns_records`, body: { type: "TXT", name, content, ttl: 1 } })

/** SPF present, single, well-formed and strict. */
export const spf: Check.Check = {
  id: "cloudflare.dns.spf",
  title: "SPF record present and strict",
  description: "One SPF record at the apex, ending in -all or ~all, within 10 DNS lookups, so others cannot send mail as the domain.",
  severity: "medium",
  scope: "zone",
  resources: ["dns_records"],
  permissions: [Permission.DnsRead],
  evaluate: (input) => {
    const zone = zoneName(input)
    const read = recordsOf(input, "dns_records", DnsRecord)
    if (Either.isLeft(read)) return read.left
    const records = read.right.filter(
      (r) => r.type === "TXT" && r.name.toLowerCase() === zone.toLowerCase() && /^v=spf1(\s|$)/i.test(txtContent(r))
    )
    const found = records.map((r) => ({ id: r.id, content: txtContent(r) }))
    const note = "Lookups are counted in the zone's own record; included records are not fetched."
    if (records.length === 0) {
      return new Check.Fail({
        evidence: { zone, records: [] },
        remediation: new Check.Remediation({
          summary: `Publish an SPF record for ${zone}; "v=spf1 -all" if the domain sends no mail, otherwise list its senders before -all.`,
          request: dnsRecordRequest(input.scope.id, zone, "v=spf1 -all")
        })
      })
    }
    if (records.length > 1) {
      return new Check.Fail({
        evidence: { zone, records: found },
        remediation: new Check.Remediation({
          summary: `${zone} has ${records.length} SPF records; receivers treat that as an error. Merge them into one.`,
          request: new Check.RemediationRequest({ method: "DELETE", path: `/zones/${input.scope.id}/dns_records/${records[1]!.id}` })
        })
      })
    }
    const problems = spfProblems(found[0]!.content)
    if (problems.length > 0) {
      return new Check.Fail({
        evidence: { zone, records: found, problems: [...problems], note },
        remediation: new Check.Remediation({
          summary: `Fix the SPF record of ${zone}: ${problems.join("; ")}.`,
          request: new Check.RemediationRequest({
            method: "PATCH",
            path: `/zones/${input.scope.id}/dns_records/${records[0]!.id}`,
            body: { content: "v=spf1 -all" }
          })
        })
      })
    }
    return new Check.Pass({ evidence: { zone, records: found, note } })
  }
}

/** The DMARC policy of a record, if it has one. */
export const dmarcPolicy = (content: string): string | undefined => /(?:^|;)\s*p\s*=\s*([a-z]+)/i.exec(content)?.[1]?.toLowerCase()

/** DMARC present with an enforcing policy. */
export const dmarc: Check.Check = {
  id: "cloudflare.dns.dmarc",
  title: "DMARC policy enforced",
  description: "A DMARC record at _dmarc with p=quarantine or p=reject, so receivers act on mail that fails SPF and DKIM.",
  severity: "medium",
  scope: "zone",
  resources: ["dns_records"],
  permissions: [Permission.DnsRead],
  evaluate: (input) => {
    const zone = zoneName(input)
    const name = `_dmarc.${zone}`
    const read = recordsOf(input, "dns_records", DnsRecord)
    if (Either.isLeft(read)) return read.left
    const records = read.right.filter(
      (r) => r.type === "TXT" && r.name.toLowerCase() === name.toLowerCase() && /^v=DMARC1/i.test(txtContent(r))
    )
    const content = `v=DMARC1; p=quarantine; rua=mailto:dmarc-reports@${zone}`
    const first = records[0]
    if (first === undefined) {
      return new Check.Fail({
        evidence: { zone, records: [] },
        remediation: new Check.Remediation({
          summary: `Publish a DMARC record at ${name} with p=quarantine (or p=reject once reports look clean).`,
          request: dnsRecordRequest(input.scope.id, name, content)
        })
      })
    }
    const policy = dmarcPolicy(txtContent(first))
    const evidence = { zone, records: records.map((r) => ({ id: r.id, content: txtContent(r) })), policy: policy ?? null }
    if (records.length === 1 && (policy === "quarantine" || policy === "reject")) return new Check.Pass({ evidence })
    return new Check.Fail({
      evidence,
      remediation: new Check.Remediation({
        summary:
          records.length > 1
            ? `${name} has ${records.length} DMARC records; keep one, with p=quarantine or p=reject.`
            : `The DMARC policy of ${zone} is ${policy ?? "missing"}; set p=quarantine or p=reject.`,
        request: new Check.RemediationRequest({
          method: "PATCH",
          path: `/zones/${input.scope.id}/dns_records/${first.id}`,
          body: { content }
        })
      })
    })
  }
}
