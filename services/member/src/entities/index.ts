import { AuditEntryEntity, JobRunEntity } from '@membergraph/platform';
import { ApiClientEntity } from './api-client.entity';
import { MemberEntity } from './member.entity';
import { OrderEntity } from './order.entity';
import { OtpCodeEntity } from './otp-code.entity';
import { SentMessageEntity } from './sent-message.entity';
import { StaffUserEntity } from './staff-user.entity';
import { ThrottleEventEntity, ThrottleLockEntity } from './throttle.entity';
import { TierEntity } from './tier.entity';
import { RefundEntity } from './refund.entity';
import { TierEvaluationEntity } from './tier-evaluation.entity';
import { ConsentEntity } from './consent.entity';
import { TierChangeEntity } from './tier-change.entity';
import { MemberTagEntity } from './member-tag.entity';
import { BirthdayNoticeEntity } from './birthday-notice.entity';
import { TierDowngradeWarningEntity } from './tier-downgrade-warning.entity';
import { MemberIdentityEntity } from './member-identity.entity';
import { EmailVerificationEntity } from './email-verification.entity';

export const entities = [
  MemberEntity,
  StaffUserEntity,
  OrderEntity,
  TierEntity,
  AuditEntryEntity,
  SentMessageEntity,
  OtpCodeEntity,
  ThrottleLockEntity,
  ThrottleEventEntity,
  ApiClientEntity,
  RefundEntity,
  TierEvaluationEntity,
  ConsentEntity,
  TierChangeEntity,
  MemberTagEntity,
  BirthdayNoticeEntity,
  TierDowngradeWarningEntity,
  JobRunEntity,
  MemberIdentityEntity,
  EmailVerificationEntity,
];
