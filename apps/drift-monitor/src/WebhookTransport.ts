/**
 * How a webhook leaves the process. Not the platform HttpClient: the connection must be pinned to
 * an address that passed the `WebhookTarget` policy, so the Node implementation resolves the host
 * itself (a custom `lookup`), refuses the connection if any resolved address is refused, and
 * connects to what it validated — a DNS answer that changes between the check and the connect (DNS
 * rebinding) cannot switch it. The Host header and TLS server name stay the URL's host. At most
 * 64 KB of an answer is read; the rest is discarded by closing the socket. Failures are reported
 * as a class only (`timeout`, `refused`, `dns`, `tls`, `reset`, `blocked-address`, `network`),
 * never the transport's message, so the delivery log is no port scanner. Only the given headers
 * are sent: no tracing headers reach an outside host.
 */
import { lookup as dnsLookup, type LookupAddress } from "node:dns"
import { request as httpRequest, type IncomingMessage } from "node:http"
import { request as httpsRequest } from "node:https"
import { isIP } from "node:net"
import { Context, type Duration, Effect, Either, Layer } from "effect"
import * as WebhookTarget from "./WebhookTarget.js"

/** Why a send did not get an answer. */
export type FailureClass = "timeout" | "refused" | "dns" | "tls" | "reset" | "blocked-address" | "network"

/** One webhook to send. */
export interface Outgoing {
  readonly url: URL
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
  readonly timeout: Duration.Duration
}

/** Resolves a host name to every address it has (`dns.lookup` with `all` in production). */
export type Resolver = (host: string) => Promise<ReadonlyArray<LookupAddress>>

/** The transport. */
export interface Service {
  /**
   * Checks `url`'s host at creation: allowlisted, or a public IP literal, or a name whose every
   * resolved address is public. Fails with a message for the API (never an address or the URL).
   */
  readonly admit: (url: URL) => Effect.Effect<void, string>
  /** Sends `outgoing`; succeeds with the answer's status, or fails with the failure's class. */
  readonly send: (outgoing: Outgoing) => Effect.Effect<number, FailureClass>
}

/** The webhook transport. */
export class WebhookTransport extends Context.Tag("@plumbline/drift-monitor/WebhookTransport")<WebhookTransport, Service>() {}

/** The most of an answer's body read before the socket is closed. */
export const maxAnswerBytes = 64 * 1024

/** `dns.lookup` with every address. */
export const systemResolver: Resolver = (host) =>
  new Promise((resolve, reject) => dnsLookup(host, { all: true, verbatim: true }, (e, addresses) => (e ? reject(e) : resolve(addresses))))

class Blocked extends Error {
  readonly code = "EBLOCKEDADDRESS"
}

/** A transport failure's class, from its Node error code. */
export const classify = (error: unknown): FailureClass => {
  const code = typeof error === "object" && error !== null && "code" in error ? String((error as { code: unknown }).code) : ""
  if (code === "EBLOCKEDADDRESS") return "blocked-address"
  if (code === "ECONNREFUSED") return "refused"
  if (code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EAI_FAIL" || code === "EAI_NODATA") return "dns"
  if (code === "ETIMEDOUT") return "timeout"
  if (code === "ECONNRESET" || code === "EPIPE" || code === "ECONNABORTED") return "reset"
  if (code === "EPROTO" || code.startsWith("ERR_TLS") || code.startsWith("ERR_SSL") || code.includes("CERT") || code.includes("SIGNATURE")) {
    return "tls"
  }
  return "network"
}

const refusedMessage = "url: the host is not a public address (loopback, private, link-local, metadata and similar addresses are refused; see DRIFT_MONITOR_WEBHOOK_ALLOWED_HOSTS)"

/**
 * The Node transport: `allowlist` (`host:port`) skips the address policy; `resolve` is the resolver
 * (injected by tests to simulate DNS rebinding).
 */
export const make = (allowlist: ReadonlyArray<string>, resolve: Resolver = systemResolver): Service => {
  const admit: Service["admit"] = (url) =>
    Effect.gen(function* () {
      if (WebhookTarget.isAllowlisted(url, allowlist)) return
      const host = WebhookTarget.hostOf(url)
      if (isIP(host) !== 0) {
        if (WebhookTarget.refusal(host) !== undefined) return yield* Effect.fail(refusedMessage)
        return
      }
      const addresses = yield* Effect.tryPromise({ try: () => resolve(host), catch: () => "url: the host name does not resolve" })
      if (addresses.length === 0) return yield* Effect.fail("url: the host name does not resolve")
      if (addresses.some((a) => WebhookTarget.refusal(a.address) !== undefined)) return yield* Effect.fail(refusedMessage)
    })

  const send: Service["send"] = (outgoing) => {
    const { url } = outgoing
    const allowed = WebhookTarget.isAllowlisted(url, allowlist)
    const host = WebhookTarget.hostOf(url)
    if (!allowed && isIP(host) !== 0 && WebhookTarget.refusal(host) !== undefined) return Effect.fail("blocked-address" as const)
    // Resolves, validates every address, and hands the socket only validated ones: the connection
    // goes to what was checked.
    const lookup = (
      hostname: string,
      options: { readonly all?: boolean } | number,
      callback: (error: Error | null, address: string | ReadonlyArray<LookupAddress>, family?: number) => void
    ) => {
      resolve(hostname).then(
        (addresses) => {
          if (addresses.length === 0) return callback(Object.assign(new Error("no address"), { code: "ENOTFOUND" }), "")
          if (!allowed && addresses.some((a) => WebhookTarget.refusal(a.address) !== undefined)) return callback(new Blocked("blocked"), "")
          const first = addresses[0] as LookupAddress
          if (typeof options === "object" && options.all === true) return callback(null, addresses)
          callback(null, first.address, first.family)
        },
        (e: unknown) => callback(Object.assign(new Error("lookup failed"), { code: classify(e) === "dns" ? "ENOTFOUND" : "EAI_FAIL" }), "")
      )
    }
    const attempt = Effect.async<number, FailureClass>((resume) => {
      let done = false
      const finish = (outcome: Either.Either<number, FailureClass>) => {
        if (done) return
        done = true
        resume(Either.isRight(outcome) ? Effect.succeed(outcome.right) : Effect.fail(outcome.left))
      }
      const requestFn = url.protocol === "https:" ? httpsRequest : httpRequest
      const body = Buffer.from(outgoing.body, "utf8")
      const req = requestFn(
        url,
        {
          method: "POST",
          headers: { ...outgoing.headers, "content-type": "application/json", "content-length": String(body.length) },
          lookup: lookup as never,
          // The certificate is checked against the URL's name, not the address connected to.
          ...(url.protocol === "https:" && isIP(host) === 0 ? { servername: host } : {}),
          agent: false
        },
        (res: IncomingMessage) => {
          let read = 0
          const status = res.statusCode ?? 0
          res.on("data", (chunk: Buffer) => {
            read += chunk.length
            if (read > maxAnswerBytes) {
              // Enough: the status is known, the rest is discarded with the socket.
              res.destroy()
              req.destroy()
              finish(Either.right(status))
            }
          })
          res.on("end", () => finish(Either.right(status)))
          res.on("error", () => finish(Either.right(status)))
          res.on("close", () => finish(Either.right(status)))
        }
      )
      req.on("error", (e) => finish(Either.left(classify(e))))
      req.end(body)
      return Effect.sync(() => {
        done = true
        req.destroy()
      })
    })
    return attempt.pipe(Effect.timeoutFail({ duration: outgoing.timeout, onTimeout: () => "timeout" as const }))
  }

  return { admit, send }
}

/** The Node transport as a layer. */
export const layer = (allowlist: ReadonlyArray<string>, resolve?: Resolver): Layer.Layer<WebhookTransport> =>
  Layer.succeed(WebhookTransport, make(allowlist, resolve))

/** A transport that admits every URL and answers with `answer` (tests observe deliveries through it). */
export const layerFake = (answer: (outgoing: Outgoing) => Effect.Effect<number, FailureClass>): Layer.Layer<WebhookTransport> =>
  Layer.succeed(WebhookTransport, { admit: () => Effect.void, send: answer })
