/** The order listener's settings from the configuration (docs/ehr.md "Configuration"). */
import type { Config } from '../config.js';
import type { Payer } from '../domain/case.js';
import type { OrderSettings } from './order-message.js';

/**
 * IN1-2.1 / IN1-3.1 → payer when ILDFLOW_HL7_PAYERS is unset: the ids interface engines commonly send.
 * A site's own plan ids go in ILDFLOW_HL7_PAYERS.
 */
export const DEFAULT_HL7_PAYERS: Readonly<Record<string, Payer>> = {
  MEDICARE: 'medicare',
  MCR: 'medicare',
  AETNA: 'aetna',
  BCBS: 'bcbs',
  BLUECROSS: 'bcbs',
  CIGNA: 'cigna',
  UHC: 'uhc',
  UNITEDHEALTHCARE: 'uhc',
  SELFPAY: 'self-pay',
  'SELF-PAY': 'self-pay',
};

export function orderSettings(config: Pick<Config, 'ILDFLOW_HL7_ORDER_CODES' | 'ILDFLOW_HL7_PAYERS'>): OrderSettings {
  const codes = new Set(['0877T', ...config.ILDFLOW_HL7_ORDER_CODES.split(',').map((c) => c.trim().toUpperCase())]);
  const payers = config.ILDFLOW_HL7_PAYERS
    ? Object.fromEntries(config.ILDFLOW_HL7_PAYERS.split(',').map((p) => p.trim().split('=') as [string, Payer]).map(([k, v]) => [k.trim().toUpperCase(), v]))
    : DEFAULT_HL7_PAYERS;
  return { serviceCodes: [...codes], payers };
}
