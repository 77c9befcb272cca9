/**
 * Stored-value card rules, data in and data out: numbers (unguessable, Luhn-checked), PINs, the
 * status a card shows, and whether it may be bound or gifted.
 */
import type { CardKind, CardStatus } from '../entities/card.entity';

/** Issuer prefix of our card numbers; 2 + 16 random + 1 check digit = 19 digits (ISO/IEC 7812 maximum). */
export const CARD_PREFIX = '88';
export const CARD_RANDOM_DIGITS = 16;
export const PIN_DIGITS = 8;
/** Wrong PINs allowed per card and per member in PIN_WINDOW_MS before RATE_LIMITED. */
export const PIN_FAILURE_LIMIT = 5;
export const PIN_WINDOW_MS = 60 * 60 * 1000;
/** Cards per batch: every PIN is a scrypt hash (tens of ms each), so batches stay bounded. */
export const MAX_BATCH = 500;

/** The Luhn check digit for `digits` (the number without its last digit). */
export function luhnCheckDigit(digits: string): number {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    // From the right, every second digit (starting with the one next to the check digit) is doubled.
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

/** Whether `number` is all digits with a valid Luhn check digit. */
export function luhnValid(number: string): boolean {
  if (!/^\d{2,19}$/.test(number)) return false;
  return luhnCheckDigit(number.slice(0, -1)) === Number(number.at(-1));
}

/** A card number from random digits (`randomDigit` is crypto.randomInt(10) in production). */
export function cardNumber(randomDigit: () => number): string {
  let body = CARD_PREFIX;
  for (let i = 0; i < CARD_RANDOM_DIGITS; i++) body += String(randomDigit());
  return body + String(luhnCheckDigit(body));
}

/** A PIN from random digits. */
export function cardPin(randomDigit: () => number): string {
  let pin = '';
  for (let i = 0; i < PIN_DIGITS; i++) pin += String(randomDigit());
  return pin;
}

/** The status a card shows at `now`: an unbound, unvoided card past its expiry is EXPIRED. */
export function cardStatus(card: { status: CardStatus; expiresAt: Date }, now: Date): CardStatus {
  if ((card.status === 'INACTIVE' || card.status === 'ACTIVE') && card.expiresAt.getTime() <= now.getTime()) return 'EXPIRED';
  return card.status;
}

export interface BindableCard {
  status: CardStatus;
  expiresAt: Date;
  kind: CardKind;
  giftedTo: string | null;
  boundMemberId: string | null;
}

/**
 * Why `memberId` may not bind the card at `now` (a CONFLICT reason), 'ALREADY_BOUND_TO_YOU' for a
 * repeat by the member who bound it, or null when it may be bound.
 */
export function bindRefusal(card: BindableCard, memberId: string, now: Date): string | null {
  const status = cardStatus(card, now);
  if (status === 'BOUND') return card.boundMemberId === memberId ? 'ALREADY_BOUND_TO_YOU' : 'CARD_BOUND';
  if (status === 'INACTIVE') return 'CARD_INACTIVE';
  if (status === 'EXPIRED') return 'CARD_EXPIRED';
  if (status === 'VOID') return 'CARD_VOID';
  if (card.giftedTo !== null && card.giftedTo !== memberId) return 'CARD_GIFTED';
  return null;
}

/** Why `memberId` may not gift the card to `to` (a CONFLICT reason), or null. */
export function giftRefusal(card: BindableCard, memberId: string, to: string, now: Date): string | null {
  if (card.kind !== 'ELECTRONIC') return 'NOT_ELECTRONIC';
  if (to === memberId) return 'GIFT_TO_SELF';
  const refusal = bindRefusal(card, memberId, now);
  return refusal === 'ALREADY_BOUND_TO_YOU' ? 'CARD_BOUND' : refusal;
}
