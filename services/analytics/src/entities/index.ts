import { MemberFactEntity } from './member-fact.entity';

export const entities = [MemberFactEntity];
