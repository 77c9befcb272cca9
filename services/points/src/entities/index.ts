import { IdempotencyKeyEntity } from '@membergraph/platform';
import { EarnRulesEntity } from './earn-rules.entity';
import { MemberStatusEntity } from './member-status.entity';
import { MemberTierEntity } from './member-tier.entity';
import { PointsAccountEntity } from './points-account.entity';
import { PointsDrawEntity } from './points-draw.entity';
import { PointsEntryEntity } from './points-entry.entity';
import { PointsHoldEntity } from './points-hold.entity';
import { PointsLotEntity } from './points-lot.entity';
import { PointsRefundEntity } from './points-refund.entity';
import { PointsHoldRefundEntity } from './points-hold-refund.entity';
import { PointsAwardEntity } from './points-award.entity';
import { PointsCheckInEntity } from './points-check-in.entity';
import { PointsPendingEntity } from './points-pending.entity';
import { PointsExpiryReminderEntity } from './points-expiry-reminder.entity';

export const entities = [PointsAccountEntity, PointsEntryEntity, PointsLotEntity, PointsDrawEntity, PointsHoldEntity, PointsRefundEntity, PointsHoldRefundEntity, PointsAwardEntity, PointsCheckInEntity, PointsPendingEntity, PointsExpiryReminderEntity, MemberTierEntity, MemberStatusEntity, EarnRulesEntity, IdempotencyKeyEntity];
