import { EntitySchema } from 'typeorm';
import { bigintColumn } from '@membergraph/platform';

export const CardKind = { PHYSICAL: 'PHYSICAL', ELECTRONIC: 'ELECTRONIC' } as const;
export type CardKind = (typeof CardKind)[keyof typeof CardKind];

/**
 * Stored statuses of a card. EXPIRED is never stored: it is read from `expiresAt` (see
 * `cardStatus`), so no sweeper has to run for a card to stop being bindable.
 */
export const CardStatus = { INACTIVE: 'INACTIVE', ACTIVE: 'ACTIVE', BOUND: 'BOUND', EXPIRED: 'EXPIRED', VOID: 'VOID' } as const;
export type CardStatus = (typeof CardStatus)[keyof typeof CardStatus];

/** A batch of stored-value cards issued by finance (the PINs were shown once, at issue). */
export interface CardBatchRow {
  id: string;
  kind: CardKind;
  count: number;
  faceValue: number;
  expiresAt: Date;
  issuedBy: string;
  createdAt: Date;
}

export const CardBatchEntity = new EntitySchema<CardBatchRow>({
  name: 'CardBatch',
  tableName: 'wallet_card_batch',
  columns: {
    id: { type: 'varchar', length: 26, primary: true },
    kind: { type: 'varchar', length: 16 },
    count: { type: 'int' },
    faceValue: { name: 'face_value', type: 'bigint', transformer: bigintColumn },
    expiresAt: { name: 'expires_at', type: 'datetime', precision: 3 },
    issuedBy: { name: 'issued_by', type: 'varchar', length: 64 },
    createdAt: { name: 'created_at', type: 'datetime', precision: 3 },
  },
});

/**
 * One card. The number is the key (unguessable, Luhn-checked); the PIN is only kept as a scrypt
 * hash. The row is the card's lock: binding takes it FOR UPDATE after the member's account.
 */
export interface CardRow {
  number: string;
  batchId: string;
  kind: CardKind;
  faceValue: number;
  pinHash: string;
  /** INACTIVE, ACTIVE, BOUND or VOID (EXPIRED is derived). */
  status: CardStatus;
  expiresAt: Date;
  /** An e-card gifted before binding: only this member may bind it. */
  giftedTo: string | null;
  giftedBy: string | null;
  boundMemberId: string | null;
  boundAt: Date | null;
  /** The CARD_LOAD journal that loaded it. */
  journalId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export const CardEntity = new EntitySchema<CardRow>({
  name: 'Card',
  tableName: 'wallet_card',
  columns: {
    number: { type: 'varchar', length: 19, primary: true },
    batchId: { name: 'batch_id', type: 'varchar', length: 26 },
    kind: { type: 'varchar', length: 16 },
    faceValue: { name: 'face_value', type: 'bigint', transformer: bigintColumn },
    pinHash: { name: 'pin_hash', type: 'varchar', length: 128 },
    status: { type: 'varchar', length: 16 },
    expiresAt: { name: 'expires_at', type: 'datetime', precision: 3 },
    giftedTo: { name: 'gifted_to', type: 'varchar', length: 26, nullable: true },
    giftedBy: { name: 'gifted_by', type: 'varchar', length: 26, nullable: true },
    boundMemberId: { name: 'bound_member_id', type: 'varchar', length: 26, nullable: true },
    boundAt: { name: 'bound_at', type: 'datetime', precision: 3, nullable: true },
    journalId: { name: 'journal_id', type: 'varchar', length: 26, nullable: true },
    createdAt: { name: 'created_at', type: 'datetime', precision: 3 },
    updatedAt: { name: 'updated_at', type: 'datetime', precision: 3 },
  },
  indices: [
    { name: 'idx_card_batch', columns: ['batchId'] },
    // Reconciliation: card loads of a business day.
    { name: 'idx_card_bound_at', columns: ['boundAt'] },
  ],
});

/** A wrong PIN, counted per card and per member for the throttle (kept, like a log). */
export interface CardPinFailureRow {
  id: string;
  /** CARD or MEMBER. */
  scope: string;
  subject: string;
  at: Date;
}

export const CardPinFailureEntity = new EntitySchema<CardPinFailureRow>({
  name: 'CardPinFailure',
  tableName: 'wallet_card_pin_failure',
  columns: {
    id: { type: 'varchar', length: 26, primary: true },
    scope: { type: 'varchar', length: 8 },
    subject: { type: 'varchar', length: 32 },
    at: { type: 'datetime', precision: 3 },
  },
  indices: [{ name: 'idx_pin_failure', columns: ['scope', 'subject', 'at'] }],
});
