/**
 * National Provider Identifier check digit: the Luhn algorithm over the 10 digits prefixed with the card
 * issuer identifier 80840 (CMS, "Requirements for NPI check digit", 45 CFR 162.406).
 */
export function isValidNpi(npi: string): boolean {
  if (!/^\d{10}$/.test(npi)) return false;
  const digits = `80840${npi}`;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}
