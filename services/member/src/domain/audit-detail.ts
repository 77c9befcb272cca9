import { maskEmail, maskName, maskPhone } from './mask';

const MASKERS: Record<string, (v: string) => string> = {
  phone: maskPhone,
  name: maskName,
  email: maskEmail,
  birthday: () => '****-**-**',
  gender: () => '*',
};

function maskValue(key: string, value: unknown): unknown {
  if (typeof value === 'string' && key in MASKERS) return MASKERS[key]!(value);
  if (Array.isArray(value)) return value.map((v) => maskValue(key, v));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskValue(k, v)]));
  return value;
}

/**
 * An audit entry's detail as shown to readers: values under personal-data keys (phone, name, email,
 * birthday, gender), at any depth, masked. Writers keep PII out of details in the first place;
 * this guards the read side. Text that is not JSON is shown as it is.
 */
export function maskAuditDetail(detail: string | null): string | null {
  if (detail === null) return null;
  try {
    return JSON.stringify(maskValue('', JSON.parse(detail)));
  } catch {
    return detail;
  }
}
