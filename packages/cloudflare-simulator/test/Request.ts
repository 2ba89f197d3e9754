/**
 * Small request helpers for tests that drive the handler directly.
 */
import type { Simulator } from "../src/Simulator.js"

/** The production base URL the handler is addressed with. */
export const BASE = "https://api.cloudflare.com/client/v4"

/** A parsed response. */
export interface Answer {
  readonly status: number
  readonly headers: Headers
  readonly body: Record<string, unknown>
}

/** Sends a request with a named token (or a raw token value, or none). */
export const call = async (
  sim: Simulator,
  method: string,
  path: string,
  token: string | null = "customer",
  body?: unknown
): Promise<Answer> => {
  const headers: Record<string, string> = {}
  if (token !== null) headers["authorization"] = `Bearer ${sim.tokens[token] ?? token}`
  if (body !== undefined) headers["content-type"] = "application/json"
  const res = await sim.handle(new Request(`${BASE}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }))
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> }
}

/** The first error code of a failure body. */
export const code = (a: Answer): number | undefined => ((a.body["errors"] as Array<{ code: number }>)[0] ?? { code: undefined }).code
