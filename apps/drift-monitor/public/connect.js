// @ts-check
/* global document, location, history, fetch, window, URL, URLSearchParams, HTMLMetaElement */
/**
 * The hosted connect page (issue #13): the end customer connects their Cloudflare account to the
 * product that sent them here, and the token they paste goes to Plumbline only — never to the
 * product. The session's secret arrives in the address's fragment (`#session=…`, which no server or
 * Referer sees); it is read once and taken out of the address bar. The steps: what to grant and why
 * (with Cloudflare's pre-filled template link), paste one or several tokens, verify them (grants,
 * missing permissions, zones), pick zones, done. When done, the page tells the product's page with
 * `postMessage` — only to the origins the product declared for this session, never `"*"` — or, with
 * no opener or parent to tell, sends the browser to the product's `returnUrl`. A token is cleared
 * from the page as soon as it is sent and is never shown or logged.
 */

/**
 * @typedef {{ id: string, displayName: string | null, email: string | null }} EndUser
 * @typedef {{ endUser: EndUser, requiredPermissions: ReadonlyArray<string>, optionalPermissions: ReadonlyArray<string>, permissionPurposes?: Readonly<Record<string, string>>, tokenTemplateUrl: string, expiresAt: string, reconnect?: string }} SessionView
 * @typedef {{ resource: string, status: string, permissions: ReadonlyArray<string> }} Grant
 * @typedef {{ id: string, name: string, status: string | null, plan: string | null, account: string | null }} Zone
 * @typedef {{ subject: string, status: string, expiresAt: string | null, grants: ReadonlyArray<Grant>, missingPermissions: ReadonlyArray<string>, zones: ReadonlyArray<Zone>, notes?: ReadonlyArray<string> }} Verification
 * @typedef {{ connectionId: string, zones: ReadonlyArray<{ id: string, name: string }> }} Completed
 */

/** Why each kind of permission is asked for, in the customer's words. */
const why = {
  required: "Read-only access to your zones' settings, DNS and security rules: the posture checks run on these.",
  optional: "Read-only access to account-level rulesets, IP lists and Workers: more checks, not needed to start."
}

const root = /** @type {HTMLElement} */ (document.getElementById("connect"))

/** The session's secret, held in memory only. */
let sessionToken = takeSessionToken()

/** Verified tokens, kept in memory until the session is completed (never put back into the page). */
/** @type {Array<{ token: string, verification: Verification }>} */
const verified = []

/** @returns {ReadonlyArray<string>} */
function allowedOrigins() {
  const meta = document.querySelector('meta[name="plumbline-allowed-origins"]')
  const content = meta instanceof HTMLMetaElement ? meta.content : "[]"
  try {
    const parsed = JSON.parse(content)
    return Array.isArray(parsed) ? parsed.filter((o) => typeof o === "string" && o !== "*") : []
  } catch {
    return []
  }
}

/** @returns {string | null} */
function returnUrl() {
  const meta = document.querySelector('meta[name="plumbline-return-url"]')
  return meta instanceof HTMLMetaElement && meta.content !== "" ? meta.content : null
}

/**
 * Reads `#session=` and removes the fragment from the address bar and history at once.
 * @returns {string | null}
 */
function takeSessionToken() {
  const params = new URLSearchParams(location.hash.replace(/^#/, ""))
  const token = params.get("session")
  if (location.hash !== "") history.replaceState(null, "", location.pathname + location.search)
  return token === null || token === "" ? null : token
}

/**
 * An element with text children (never HTML).
 * @param {string} tag
 * @param {Record<string, string>} [attributes]
 * @param {ReadonlyArray<Node | string>} [children]
 * @returns {HTMLElement}
 */
function el(tag, attributes = {}, children = []) {
  const node = document.createElement(tag)
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value)
  for (const child of children) node.append(child)
  return node
}

/** @param {ReadonlyArray<Node>} nodes */
function show(...nodes) {
  root.replaceChildren(...nodes)
}

/** @param {string} message */
function fatal(message) {
  show(el("section", {}, [el("h2", {}, ["This link cannot be used"]), el("p", { class: "error-msg", "data-testid": "connect-error" }, [message])]))
}

/**
 * Calls a headless route with the session's token. A refusal's message (never a token) is thrown.
 * @param {"GET" | "POST"} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<unknown>}
 */
async function call(method, path, body) {
  /** @type {Record<string, string>} */
  const headers = { authorization: `Bearer ${sessionToken ?? ""}` }
  if (body !== undefined) headers["content-type"] = "application/json"
  const response = await fetch(path, { method, headers, body: body === undefined ? null : JSON.stringify(body), referrerPolicy: "no-referrer", cache: "no-store" })
  const json = await response.json().catch(() => ({}))
  if (!response.ok) {
    const message = typeof json === "object" && json !== null && "message" in json && typeof json.message === "string" ? json.message : `HTTP ${response.status}`
    if (response.status === 401) throw new Error("This connect link has expired. Go back to the product and start again.")
    if (response.status === 410) throw new Error("This connect link was already used. Go back to the product and start again.")
    throw new Error(message)
  }
  return json
}

/**
 * The permissions step and the token step.
 * @param {SessionView} session
 */
function renderStart(session) {
  const who = session.endUser.displayName ?? session.endUser.email ?? session.endUser.id
  const permissions = el("section", { "data-testid": "permissions-step" }, [
    el("h2", {}, [session.reconnect === undefined ? `1. Create a read-only Cloudflare token for ${who}` : `1. Create a new read-only token to reconnect ${who}`]),
    el("p", {}, ["Plumbline only reads. It never changes anything in your account. Grant:"]),
    el("ul", { "data-testid": "required-permissions" }, session.requiredPermissions.map((p) => el("li", {}, [p]))),
    el("p", { class: "muted" }, [why.required]),
    el("p", {}, ["Optionally:"]),
    el("ul", { "data-testid": "optional-permissions" }, session.optionalPermissions.map((p) => {
      const purpose = session.permissionPurposes?.[p]
      return el("li", {}, [purpose === undefined ? p : `${p} — ${purpose}`])
    })),
    el("p", { class: "muted" }, [why.optional]),
    el("p", {}, [
      el("a", { href: session.tokenTemplateUrl, target: "_blank", rel: "noopener noreferrer", "data-testid": "token-template" }, ["Open Cloudflare with these permissions pre-filled"]),
      " — then copy the token Cloudflare shows you. You can make one token for all zones, or one per zone."
    ])
  ])
  const inputs = el("div", { "data-testid": "token-inputs" })
  const addInput = () => {
    const n = inputs.children.length + 1
    inputs.append(el("p", {}, [el("label", {}, [`Token ${n}`, el("input", { type: "password", autocomplete: "off", spellcheck: "false", "data-testid": "token-input" })])]))
  }
  addInput()
  const error = el("p", { class: "error-msg", "data-testid": "verify-error" })
  const more = el("button", { type: "button", "data-testid": "add-token" }, ["Add another token"])
  more.addEventListener("click", addInput)
  const verify = el("button", { type: "button", "data-testid": "verify" }, ["Verify"])
  verify.addEventListener("click", () => void verifyAll(inputs, error, verify))
  const tokens = el("section", { "data-testid": "token-step" }, [el("h2", {}, ["2. Paste the token (or several)"]), inputs, more, " ", verify, error])
  show(permissions, tokens, el("section", { id: "verified", "data-testid": "verified" }))
}

/**
 * Verifies every pasted token; each field is emptied as soon as its token is sent.
 * @param {HTMLElement} inputs
 * @param {HTMLElement} error
 * @param {HTMLElement} button
 */
async function verifyAll(inputs, error, button) {
  error.textContent = ""
  button.setAttribute("disabled", "")
  try {
    for (const input of Array.from(inputs.querySelectorAll("input"))) {
      const token = input.value.trim()
      input.value = ""
      if (token === "" || verified.some((v) => v.token === token)) continue
      const verification = /** @type {Verification} */ (await call("POST", "/connect/api/verify", { token }))
      verified.push({ token, verification })
    }
    renderVerified()
  } catch (e) {
    error.textContent = e instanceof Error ? e.message : "verification failed"
  } finally {
    button.removeAttribute("disabled")
  }
}

/** The grants, missing permissions and zones of every verified token; the zones to pick. */
function renderVerified() {
  const target = /** @type {HTMLElement} */ (document.getElementById("verified"))
  if (verified.length === 0) return target.replaceChildren()
  /** @type {Map<string, Zone>} */
  const zones = new Map()
  const perToken = verified.map(({ verification }, i) => {
    for (const z of verification.zones) zones.set(z.id, z)
    return el("div", { "data-testid": "verification" }, [
      el("h3", {}, [`Token ${i + 1}: ${verification.subject} (${verification.status})`]),
      el("ul", { "data-testid": "grants" }, verification.grants.map((g) =>
          g.status === "not_applicable"
            ? el("li", {}, [`${g.resource}: not needed on this plan`])
            : el("li", { class: g.status === "missing" ? "fail" : "pass" }, [`${g.resource}: ${g.status}`])
        )),
      verification.missingPermissions.length === 0
        ? el("p", { class: "pass" }, ["Nothing missing."])
        : el("div", {}, [el("p", {}, ["Missing (the checks that need them will be skipped):"]), el("ul", { "data-testid": "missing-permissions" }, verification.missingPermissions.map((p) => el("li", {}, [p])))])
    ])
  })
  const zoneList = el(
    "ul",
    { "data-testid": "zones" },
    Array.from(zones.values()).map((z) =>
      el("li", {}, [el("label", {}, [el("input", { type: "checkbox", checked: "", value: z.id, "data-testid": "zone-checkbox", "data-zone": z.name }), ` ${z.name}`])])
    )
  )
  const error = el("p", { class: "error-msg", "data-testid": "complete-error" })
  const done = el("button", { type: "button", "data-testid": "complete" }, ["Connect"])
  done.addEventListener("click", () => void complete(zoneList, error, done))
  target.replaceChildren(el("h2", {}, ["3. Check what the token(s) can see, pick zones"]), ...perToken, el("h3", {}, ["Zones to monitor"]), zoneList, done, error)
}

/**
 * Completes the session with the verified tokens and the picked zones, then tells the product.
 * @param {HTMLElement} zoneList
 * @param {HTMLElement} error
 * @param {HTMLElement} button
 */
async function complete(zoneList, error, button) {
  error.textContent = ""
  const zones = Array.from(zoneList.querySelectorAll("input")).filter((i) => i.checked).map((i) => i.value)
  if (zones.length === 0) {
    error.textContent = "Pick at least one zone."
    return
  }
  button.setAttribute("disabled", "")
  try {
    const done = /** @type {Completed} */ (await call("POST", "/connect/api/complete", { tokens: verified.map((v) => v.token), zones }))
    // The session is consumed: forget its secret and the tokens.
    verified.length = 0
    sessionToken = null
    renderDone(done)
    tell(done.connectionId)
  } catch (e) {
    error.textContent = e instanceof Error ? e.message : "could not connect"
    button.removeAttribute("disabled")
  }
}

/** @param {Completed} done */
function renderDone(done) {
  show(
    el("section", { "data-testid": "done" }, [
      el("h2", {}, ["4. Done"]),
      el("p", {}, [`Connected ${done.zones.length} zone(s): ${done.zones.map((z) => z.name).join(", ")}.`]),
      el("p", { class: "muted" }, ["Connection ", el("code", { "data-testid": "connection-id" }, [done.connectionId]), ". You can close this window."])
    ])
  )
}

/**
 * Tells the product's page: `postMessage` to its opener (popup) or parent (iframe), once per allowed
 * origin — the browser delivers it only if that window is at that origin, so a page anywhere else
 * gets nothing. Without a window to tell, the browser goes to the product's `returnUrl`.
 * @param {string} connectionId
 */
function tell(connectionId) {
  const target = window.opener ?? (window.parent !== window ? window.parent : null)
  const origins = allowedOrigins()
  if (target !== null && origins.length > 0) {
    for (const origin of origins) /** @type {Window} */ (target).postMessage({ type: "plumbline:connected", connectionId }, origin)
    return
  }
  const back = returnUrl()
  if (back !== null) {
    const url = new URL(back)
    url.searchParams.set("connection_id", connectionId)
    location.assign(url.href)
  }
}

async function main() {
  if (sessionToken === null) return fatal("This page needs the link the product gave you (it carries a one-time session).")
  try {
    renderStart(/** @type {SessionView} */ (await call("GET", "/connect/api/session")))
  } catch (e) {
    fatal(e instanceof Error ? e.message : "the session could not be read")
  }
}

void main()
