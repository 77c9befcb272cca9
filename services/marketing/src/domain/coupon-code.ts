import { randomBytes } from 'node:crypto';

/** 32 symbols without 0/O and 1/I, so a code read aloud or off a receipt cannot be mistyped. */
export const COUPON_CODE_ALPHABET = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ';
export const COUPON_CODE_LENGTH = 12;

/**
 * The code spelled by `bytes` (one symbol per byte). 256 is a multiple of 32, so masking keeps
 * every symbol equally likely: 12 symbols carry 60 random bits.
 */
export function couponCodeFrom(bytes: Uint8Array): string {
  if (bytes.length < COUPON_CODE_LENGTH) throw new RangeError(`need ${COUPON_CODE_LENGTH} bytes, got ${bytes.length}`);
  let code = '';
  for (let i = 0; i < COUPON_CODE_LENGTH; i++) code += COUPON_CODE_ALPHABET[bytes[i]! & 31];
  return code;
}

/** A fresh unguessable coupon code from the CSPRNG (`random` is replaceable for tests). */
export function newCouponCode(random: (size: number) => Uint8Array = randomBytes): string {
  return couponCodeFrom(random(COUPON_CODE_LENGTH));
}
