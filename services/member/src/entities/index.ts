import { AuditEntryEntity } from './audit-entry.entity';
import { MemberEntity } from './member.entity';
import { OrderEntity } from './order.entity';
import { StaffUserEntity } from './staff-user.entity';
import { TierEntity } from './tier.entity';

export const entities = [MemberEntity, StaffUserEntity, OrderEntity, TierEntity, AuditEntryEntity];
