import { AuditEntryEntity, IdempotencyKeyEntity } from '@membergraph/platform';
import { WalletAccountEntity } from './wallet-account.entity';
import { JournalEntity } from './journal.entity';
import { EntryEntity } from './entry.entity';
import { SystemAccountEntity } from './system-account.entity';
import { ChainHeadEntity } from './chain-head.entity';
import { TopUpEntity } from './top-up.entity';
import { TopUpRefundEntity } from './top-up-refund.entity';
import { DebitEntity } from './debit.entity';
import { TopUpRulesEntity } from './top-up-rules.entity';
import { PaymentEntity } from './payment.entity';
import { PaymentRefundEntity } from './payment-refund.entity';
import { RiskHitEntity } from './risk-hit.entity';
import { CardBatchEntity, CardEntity, CardPinFailureEntity } from './card.entity';
import { MemberStatusEntity } from './member-status.entity';

export const entities = [
  WalletAccountEntity,
  JournalEntity,
  EntryEntity,
  SystemAccountEntity,
  ChainHeadEntity,
  TopUpEntity,
  TopUpRefundEntity,
  DebitEntity,
  IdempotencyKeyEntity,
  TopUpRulesEntity,
  AuditEntryEntity,
  PaymentEntity,
  PaymentRefundEntity,
  CardBatchEntity,
  CardEntity,
  CardPinFailureEntity,
  RiskHitEntity,
  MemberStatusEntity,
];
