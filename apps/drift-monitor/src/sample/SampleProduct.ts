/**
 * A sample "product" that uses Plumbline the way a real one would (issue #13): its backend holds the
 * API key and opens a connect session server-side, its page opens the hosted connect flow in a popup
 * and shows the connection id it receives by `postMessage`, and its backend receives the webhooks and
 * verifies their Standard Webhooks signatures. The customer's Cloudflare token never passes through
 * it — and so the demo can show that, its server records every request it gets (line, headers, body)
 * in memory. Plain `node:http`: it stands for someone else's code, not Plumbline's.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { Effect } from "effect"
import { Webhook } from "standardwebhooks"

/** One request as the product's server received it. */
export interface RecordedRequest {
  readonly method: string
  readonly url: string
  readonly headers: IncomingHttpHeaders
  readonly body: string
}

/** One webhook the product's backend received. */
export interface ReceivedWebhook {
  readonly type: string
  readonly verified: boolean
  readonly data: Record<string, unknown>
}

/** The end customer the sample product connects. */
export const endUser = { id: "customer-42", displayName: "Redpine Ltd", email: "ops@redpine.example" }

/** How the sample product's webhook endpoint is described at Plumbline (and found again on a restart). */
const description = "sample product"

/** A running sample product. */
export interface SampleProduct {
  /** The page, e.g. `http://127.0.0.1:5173/`. */
  readonly url: string
  /** `host:port`, for the webhook allowlist. */
  readonly hostPort: string
  /** Every request received so far, in order. */
  readonly requests: ReadonlyArray<RecordedRequest>
  /** Every webhook received so far, in order. */
  readonly webhooks: ReadonlyArray<ReceivedWebhook>
  /** Points the product at Plumbline: registers its webhook endpoint there (the secret stays in memory). */
  readonly attach: (plumbline: { readonly baseUrl: string; readonly apiKey: string }) => Effect.Effect<void>
  /** Resolves with the first webhook that satisfies `check`, at its arrival (no polling). */
  readonly until: (check: (webhook: ReceivedWebhook) => boolean) => Effect.Effect<ReceivedWebhook>
}

const page = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Sample product</title>
    <script type="module" src="/product.js"></script>
  </head>
  <body style="font-family: system-ui, sans-serif; max-width: 48rem; margin: 2rem auto">
    <h1>Sample product</h1>
    <p>This page belongs to a product that monitors its customers' Cloudflare accounts through Plumbline.
      The customer's token goes to Plumbline's hosted page, never to this product.</p>
    <p><button id="connect" data-testid="connect">Connect Cloudflare</button>
      <button id="reconnect" data-testid="reconnect" disabled>Reconnect</button></p>
    <p>Connection: <code id="connection-id" data-testid="connection-id"></code></p>
    <h2>Messages received</h2>
    <ul id="messages" data-testid="messages"></ul>
    <h2>Webhooks received by the backend</h2>
    <ul id="webhooks" data-testid="webhooks"></ul>
  </body>
</html>
`

/** The product page's script: opens the popup, listens for Plumbline's message from Plumbline's origin only. */
const script = `
let popup = null
let connectionId = null
const plumblineOrigin = ${"${PLUMBLINE_ORIGIN}"}
const log = (text) => { const li = document.createElement("li"); li.textContent = text; document.getElementById("messages").append(li) }
window.addEventListener("message", (event) => {
  const type = event.data && typeof event.data === "object" ? String(event.data.type) : typeof event.data
  log(type + " from " + event.origin)
  if (event.origin !== plumblineOrigin || type !== "plumbline:connected") return
  connectionId = String(event.data.connectionId)
  document.getElementById("connection-id").textContent = connectionId
  document.getElementById("reconnect").disabled = false
  if (popup !== null) popup.close()
})
const open = async (reconnect) => {
  // Open the window first (a popup needs the click), then send it to the session's link.
  popup = window.open("about:blank", "plumbline-connect", "popup,width=720,height=800")
  const response = await fetch("/api/connect-session", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(reconnect === null ? {} : { reconnect }) })
  const session = await response.json()
  popup.location.href = session.connectUrl
}
document.getElementById("connect").addEventListener("click", () => void open(null))
document.getElementById("reconnect").addEventListener("click", () => void open(connectionId))
const refresh = async () => {
  const hooks = await (await fetch("/api/webhooks-received")).json()
  document.getElementById("webhooks").replaceChildren(...hooks.map((h) => { const li = document.createElement("li"); li.textContent = h.type + (h.verified ? " (signature verified) " : " (BAD SIGNATURE) ") + JSON.stringify(h.data); return li }))
}
setInterval(() => void refresh(), 2000)
`

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
    req.on("error", reject)
  })

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { "content-type": "application/json" })
  res.end(JSON.stringify(body))
}

/** Starts the sample product on `host:port` (0: a free port) for the current Scope. */
export const start = (options: { readonly host?: string; readonly port?: number } = {}) =>
  Effect.gen(function* () {
    const host = options.host ?? "127.0.0.1"
    const requests: Array<RecordedRequest> = []
    const webhooks: Array<ReceivedWebhook> = []
    const watchers = new Set<() => void>()
    let plumbline: { readonly baseUrl: string; readonly apiKey: string; readonly secret: string } | undefined
    let origin = ""

    const handle = async (req: IncomingMessage, res: ServerResponse) => {
      const body = await readBody(req)
      requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body })
      const path = (req.url ?? "/").split("?")[0]
      if (req.method === "GET" && (path === "/" || path === "/returned")) {
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" })
        return res.end(page)
      }
      if (req.method === "GET" && path === "/product.js") {
        res.writeHead(200, { "content-type": "text/javascript; charset=utf-8" })
        return res.end(script.replace("${PLUMBLINE_ORIGIN}", JSON.stringify(plumbline === undefined ? "" : new URL(plumbline.baseUrl).origin)))
      }
      if (req.method === "GET" && path === "/api/webhooks-received") return json(res, 200, webhooks)
      if (req.method === "POST" && path === "/api/connect-session") {
        if (plumbline === undefined) return json(res, 503, { message: "not attached to Plumbline yet" })
        // Server-side, with the API key: the browser never sees the key.
        const asked = body === "" ? {} : (JSON.parse(body) as { reconnect?: string })
        const created = await fetch(`${plumbline.baseUrl}/api/connect-sessions`, {
          method: "POST",
          headers: { authorization: `Bearer ${plumbline.apiKey}`, "content-type": "application/json" },
          body: JSON.stringify({
            endUser,
            allowedOrigins: [origin],
            returnUrl: `${origin}/returned`,
            ...(asked.reconnect === undefined ? {} : { reconnect: asked.reconnect })
          })
        })
        const session = (await created.json()) as { connectUrl?: string; id?: string; message?: string }
        if (!created.ok) return json(res, created.status, { message: session.message ?? "could not open a connect session" })
        return json(res, 200, { id: session.id, connectUrl: session.connectUrl })
      }
      if (req.method === "POST" && path === "/webhooks") {
        let verified = false
        let parsed: { type?: string; data?: Record<string, unknown> } = {}
        try {
          if (plumbline !== undefined) {
            parsed = new Webhook(plumbline.secret).verify(body, req.headers as Record<string, string>) as typeof parsed
            verified = true
          }
        } catch {
          // A bad signature is recorded as such (and shown), not trusted.
          parsed = JSON.parse(body) as typeof parsed
        }
        webhooks.push({ type: parsed.type ?? "unknown", verified, data: parsed.data ?? {} })
        for (const watcher of watchers) watcher()
        res.writeHead(verified ? 204 : 401)
        return res.end()
      }
      res.writeHead(404)
      res.end()
    }

    const server = createServer((req, res) => {
      handle(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500)
        res.end()
      })
    })
    yield* Effect.acquireRelease(
      Effect.async<void>((resume) => {
        server.listen(options.port ?? 0, host, () => resume(Effect.void))
      }),
      () => Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
    )
    const port = (server.address() as AddressInfo).port
    origin = `http://${host}:${port}`

    const attach: SampleProduct["attach"] = (target) =>
      Effect.promise(async () => {
        const auth = { authorization: `Bearer ${target.apiKey}` }
        // A restarted demo keeps its data: the endpoint of an earlier run (another port, a secret
        // this run never saw) goes, so deliveries are not retried at a dead address.
        const existing = (await (await fetch(`${target.baseUrl}/api/webhooks`, { headers: auth })).json()) as Array<{ id: string; description: string }>
        for (const old of existing.filter((e) => e.description === description)) {
          await fetch(`${target.baseUrl}/api/webhooks/${encodeURIComponent(old.id)}`, { method: "DELETE", headers: auth })
        }
        const response = await fetch(`${target.baseUrl}/api/webhooks`, {
          method: "POST",
          headers: { ...auth, "content-type": "application/json" },
          body: JSON.stringify({ url: `${origin}/webhooks`, description })
        })
        const created = (await response.json()) as { secret?: string; message?: string }
        if (!response.ok || created.secret === undefined) throw new Error(`could not register the sample product's webhook: ${created.message ?? response.status}`)
        plumbline = { ...target, secret: created.secret }
      })

    const until: SampleProduct["until"] = (check) =>
      Effect.async<ReceivedWebhook>((resume) => {
        const look = () => {
          const found = webhooks.find(check)
          if (found === undefined) return
          watchers.delete(look)
          resume(Effect.succeed(found))
        }
        watchers.add(look)
        look()
        return Effect.sync(() => watchers.delete(look))
      })

    return { url: `${origin}/`, hostPort: `${host}:${port}`, requests, webhooks, attach, until } satisfies SampleProduct
  })
