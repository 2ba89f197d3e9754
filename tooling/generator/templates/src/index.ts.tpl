/**
 * @plumbline/__name__ — Plumbline's read-only __Title__ connector.
 */
export * as __Name__Connector from "./__Name__Connector.js"
