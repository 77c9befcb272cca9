import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

/**
 * Normalises a phone number to E.164 ("+8613800000001"), reading national numbers as
 * mainland China; returns null when it is not a valid number.
 */
export function normalizePhone(input: string, defaultCountry: 'CN' = 'CN'): string | null {
  const cleaned = input.trim().replace(/^00/, '+');
  if (!/^\+?[\d\s().-]{5,20}$/.test(cleaned)) return null;
  const parsed = parsePhoneNumberFromString(cleaned, defaultCountry);
  return parsed?.isValid() ? parsed.number : null;
}
