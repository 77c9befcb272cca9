import { IdempotencyKeyEntity } from '@membergraph/platform';
import { EarnRulesEntity } from './earn-rules.entity';
import { MemberTierEntity } from './member-tier.entity';
import { PointsAccountEntity } from './points-account.entity';
import { PointsDrawEntity } from './points-draw.entity';
import { PointsEntryEntity } from './points-entry.entity';
import { PointsLotEntity } from './points-lot.entity';

export const entities = [PointsAccountEntity, PointsEntryEntity, PointsLotEntity, PointsDrawEntity, MemberTierEntity, EarnRulesEntity, IdempotencyKeyEntity];
