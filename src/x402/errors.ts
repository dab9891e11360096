// The facilitator client's two failures (facilitator.ts, supported.ts), apart so both modules can
// throw them without importing each other.

/** The facilitator could not be asked, or gave no usable answer. Nothing happened. */
export class FacilitatorUnavailable extends Error {}
/** The settle request may or may not have reached the chain: the outcome is unknown. */
export class SettlementUnknown extends Error {}
