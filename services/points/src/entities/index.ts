import { PointsAccountEntity } from './points-account.entity';
import { PointsEntryEntity } from './points-entry.entity';

export const entities = [PointsAccountEntity, PointsEntryEntity];
