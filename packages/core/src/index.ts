/** Placeholder while the package is being built. */
export const placeholder = true
