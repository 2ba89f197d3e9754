/**
 * The keys that encrypt connection credentials at rest, with AES-256-GCM. Several keys may be known
 * at once: the first is the active key, which seals every new credential; the others only open
 * credentials sealed before a rotation, until `Store.rotateKeys` re-seals them with the active key.
 *
 * Keys come from Effect `Config` as a redacted string `id:base64key,id:base64key` (32-byte keys;
 * `PLUMBLINE_STORE_KEYS` by default). A sealed value is the 96-bit random IV, the 128-bit tag and the
 * ciphertext; the key id is stored beside it. The connection id and credential kind are bound in as
 * additional authenticated data, so a ciphertext copied to another row does not open.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto"
import { Config, ConfigError, Context, Either, Layer, Redacted } from "effect"

/** One key: its id and 32 bytes of key material. */
export interface Key {
  readonly id: string
  readonly material: Redacted.Redacted<Uint8Array>
}

/** A sealed secret and the id of the key that sealed it. */
export interface Sealed {
  readonly keyId: string
  readonly sealed: Uint8Array
}

/** Why a sealed value did not open. Carries no key material and no plaintext. */
export type OpenFailure = "unknown-key" | "tampered"

/** The keyring service. */
export interface Service {
  /** The id of the key new values are sealed with. */
  readonly activeKeyId: string
  readonly seal: (plaintext: string, aad: string) => Sealed
  readonly open: (sealed: Sealed, aad: string) => Either.Either<Redacted.Redacted<string>, OpenFailure>
}

/** The keyring. */
export class Keyring extends Context.Tag("@plumbline/store-sql/Keyring")<Keyring, Service>() {}

const IV_BYTES = 12
const TAG_BYTES = 16
const ALGORITHM = "aes-256-gcm"

/** A keyring over `keys`; the first is the active key. */
export const make = (keys: readonly [Key, ...Array<Key>]): Service => {
  const byId = new Map(keys.map((k) => [k.id, k.material]))
  const active = keys[0]
  return {
    activeKeyId: active.id,
    seal: (plaintext, aad) => {
      const iv = randomBytes(IV_BYTES)
      const cipher = createCipheriv(ALGORITHM, Redacted.value(active.material), iv)
      cipher.setAAD(Buffer.from(aad, "utf8"))
      const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()])
      return { keyId: active.id, sealed: Buffer.concat([iv, cipher.getAuthTag(), ciphertext]) }
    },
    open: ({ keyId, sealed }, aad) => {
      const material = byId.get(keyId)
      if (material === undefined) return Either.left("unknown-key")
      if (sealed.byteLength < IV_BYTES + TAG_BYTES) return Either.left("tampered")
      const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength)
      try {
        const decipher = createDecipheriv(ALGORITHM, Redacted.value(material), bytes.subarray(0, IV_BYTES))
        decipher.setAAD(Buffer.from(aad, "utf8"))
        decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES))
        const plaintext = Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()])
        return Either.right(Redacted.make(plaintext.toString("utf8")))
      } catch {
        // GCM refuses a wrong key or altered bytes with one opaque error; nothing more to say.
        return Either.left("tampered")
      }
    }
  }
}

/**
 * Parses `id:base64key[,id:base64key…]`. Errors name the offending key id or position, never key
 * material.
 */
export const parse = (spec: string): Either.Either<readonly [Key, ...Array<Key>], string> => {
  const keys: Array<Key> = []
  const entries = spec.split(",").map((e) => e.trim()).filter((e) => e.length > 0)
  for (const [index, entry] of entries.entries()) {
    const colon = entry.indexOf(":")
    if (colon <= 0) return Either.left(`key ${index + 1} is not of the form id:base64key`)
    const id = entry.slice(0, colon)
    if (!/^[A-Za-z0-9._-]+$/.test(id)) return Either.left(`key ${index + 1} has an id with characters other than A-Z a-z 0-9 . _ -`)
    const material = Buffer.from(entry.slice(colon + 1), "base64")
    if (material.byteLength !== 32) return Either.left(`key "${id}" is not 32 bytes of base64`)
    if (keys.some((k) => k.id === id)) return Either.left(`key id "${id}" appears twice`)
    keys.push({ id, material: Redacted.make(new Uint8Array(material)) })
  }
  const [first, ...rest] = keys
  return first === undefined ? Either.left("no key given") : Either.right([first, ...rest])
}

/** The keys as a Config: a redacted `id:base64key,…` string, `PLUMBLINE_STORE_KEYS` by default. */
export const config = (name = "PLUMBLINE_STORE_KEYS"): Config.Config<readonly [Key, ...Array<Key>]> =>
  Config.redacted(name).pipe(
    Config.mapOrFail((spec) =>
      Either.mapLeft(parse(Redacted.value(spec)), (message) => ConfigError.InvalidData([name], message))
    )
  )

/** A keyring layer from explicit keys. */
export const layer = (keys: readonly [Key, ...Array<Key>]): Layer.Layer<Keyring> => Layer.succeed(Keyring, make(keys))

/** A keyring layer from Config (`PLUMBLINE_STORE_KEYS` by default). */
export const layerConfig = (name?: string): Layer.Layer<Keyring, ConfigError.ConfigError> =>
  Layer.effect(Keyring, Config.map(config(name), make))

/** A fresh random key in the `id:base64key` form, for set-up scripts and tests. */
export const generate = (id: string): string => `${id}:${randomBytes(32).toString("base64")}`
