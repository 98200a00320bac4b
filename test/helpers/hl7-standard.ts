/**
 * hl7-standard, an HL7 v2 parser independent of ildflow's (CommonJS, no types): the slice of its API the
 * tests use to judge the messages ildflow writes (ACKs, ORU^R01).
 */
import { createRequire } from 'node:module';

export type Hl7Value = string | Record<string, string> | Record<string, string>[] | null;
export type Hl7Parsed = { transform(): void; get(field: string, index?: number): Hl7Value; getSegments(name?: string): { type: string }[] };

const HL7 = createRequire(import.meta.url)('hl7-standard') as new (raw: string) => Hl7Parsed;

/** Parses a message with hl7-standard; throws when it cannot. */
export function parseIndependently(text: string): Hl7Parsed {
  const p = new HL7(text);
  p.transform();
  return p;
}
