import type { DataSource } from 'typeorm';
import { newId } from '@membergraph/platform';
import { SentMessageEntity } from '../entities/sent-message.entity';
import type { PiiVault } from '../services/pii.service';
import type { MessageChannel, MessageRecorder, OutgoingMessage, RecordedMessage } from './message-provider';
import { normalizePhone } from '../domain/phone';
import { normalizeEmail } from '../domain/profile';

/** The blind index of a recipient: the same one members are found by, so one lookup serves both. */
export function recipientIndex(vault: PiiVault, channel: MessageChannel, to: string): string {
  return channel === 'SMS' ? vault.phoneIndex(to) : vault.emailIndex(to);
}

/**
 * Outside production: "sends" by storing the message, encrypted like member PII, so ADMIN (tests,
 * the dev console) can read a code back and finish an OTP flow without a real provider.
 */
export class LocalMessageProvider implements MessageRecorder {
  readonly name = 'local';

  constructor(
    private readonly ds: DataSource,
    private readonly vault: PiiVault,
  ) {}

  async send(message: OutgoingMessage): Promise<void> {
    const id = newId();
    await this.ds.getRepository(SentMessageEntity).insert({
      id,
      channel: message.channel,
      ...this.vault.sealMessage(id, { to: message.to, toIndex: recipientIndex(this.vault, message.channel, message.to), body: message.body }),
      sentAt: new Date(),
    });
  }

  async sentTo(to: string, limit = 100): Promise<RecordedMessage[]> {
    const email = to.includes('@') ? normalizeEmail(to) : null;
    const phone = email ? null : normalizePhone(to);
    if (!email && !phone) return [];
    const index = email ? recipientIndex(this.vault, 'EMAIL', email) : recipientIndex(this.vault, 'SMS', phone!);
    const rows = await this.ds.getRepository(SentMessageEntity).find({ where: { toIndex: index }, order: { id: 'DESC' }, take: limit });
    return rows.map((row) => ({ channel: row.channel as MessageChannel, sentAt: row.sentAt, ...this.vault.openMessage(row) }));
  }
}
