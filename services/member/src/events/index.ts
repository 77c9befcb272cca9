import { STREAMS, type ConsumerDefinition, type ServiceKit } from '@membergraph/platform';
import { EventType } from '@membergraph/contracts';
import type { MemberConfig } from '../config';
import { memberTagsChangedHandler } from './handlers/member-tags-changed.handler';

/**
 * What the member service consumes: RULE tag sets analytics publishes as `member.tags_changed`
 * (subject `member.>`, so they land in the MEMBER stream, which this consumer reads).
 */
export function memberConsumers(_kit: ServiceKit<MemberConfig>): ConsumerDefinition[] {
  return [
    {
      name: 'member-tags',
      stream: STREAMS.member,
      handlers: { [EventType.MemberTagsChanged]: memberTagsChangedHandler() },
    },
  ];
}
