/**
 * The meters Pulse records, prices and caps: the one list. The usage and billing schemas, plan
 * parsing, pricing, invoice lines, quota messages and usage totals are all built from `METERS`,
 * so adding a meter is one entry here (plus whatever records its usage events).
 */

export interface MeterDefinition {
  /** How an invoice line names the meter ("Egress minutes over the 100 included"). */
  label: string;
  /** How a quota error counts its units ("includes 1000 tokens per month"). */
  units: string;
}

export const METERS = {
  participant_minutes: { label: "Participant minutes", units: "participant minutes" },
  egress_minutes: { label: "Egress minutes", units: "egress minutes" },
  ingress_minutes: { label: "Ingress minutes", units: "ingress minutes" },
  tokens_issued: { label: "Tokens issued", units: "tokens" },
} as const satisfies Record<string, MeterDefinition>;

export type Meter = keyof typeof METERS;

/** The meter names, in `METERS` order (the order of every schema and invoice). */
export const METER_NAMES = Object.keys(METERS) as Meter[];

export function isMeter(name: string): name is Meter {
  return Object.hasOwn(METERS, name);
}

/** One value per meter: `perMeter(() => 0)` is a zero total, `perMeter(() => z.number())` a schema shape. */
export function perMeter<T>(value: (meter: Meter) => T): Record<Meter, T> {
  return Object.fromEntries(METER_NAMES.map((m) => [m, value(m)])) as Record<Meter, T>;
}
