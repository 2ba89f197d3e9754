/**
 * The call context of a resource read: its name, the scope's label and the permission it needs.
 */
import type { Scope } from "@plumbline/core"
import type { CallContext } from "../CloudflareClient.js"
import * as Permissions from "../Permissions.js"

/** The context of `resource` read in `scope`. */
export const callContext = (resource: string, scope?: Scope.Scope): CallContext => ({
  resource,
  scope: scope?.label,
  permission: Permissions.forResource(resource)
})
