import type { DataSource } from 'typeorm';
import { newId } from '@membergraph/platform';
import { SentMessageEntity } from '../entities/sent-message.entity';
import type { PiiVault } from '../services/pii.service';
import { messageText, type MessageChannel, type MessageRecorder, type OutgoingMessage, type RecordedMessage } from './message-provider';
import { normalizePhone } from '../domain/phone';
import { normalizeEmail } from '../domain/profile';
import { isIdentityId } from '../domain/identity';

/** The blind index of a recipient: the same one members (or their WeChat identities) are found by, so one lookup serves both. */
export function recipientIndex(vault: PiiVault, channel: MessageChannel, to: string): string {
  if (channel === 'WECHAT') return vault.openIdIndex('WECHAT', to);
  return channel === 'SMS' ? vault.phoneIndex(to) : vault.emailIndex(to);
}

/**
 * Outside production: "sends" by storing the message, encrypted like member PII, so ADMIN (tests,
 * the dev console) can read a code back and finish an OTP flow without a real provider. WeChat
 * template messages are stored as their text (`messageText`).
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
      ...this.vault.sealMessage(id, { to: message.to, toIndex: recipientIndex(this.vault, message.channel, message.to), body: messageText(message) }),
      sentAt: new Date(),
    });
  }

  async sentTo(to: string, opts: { channel?: MessageChannel; limit?: number } = {}): Promise<RecordedMessage[]> {
    const index = this.indexOf(to, opts.channel);
    if (!index) return [];
    const rows = await this.ds.getRepository(SentMessageEntity).find({
      where: { toIndex: index, ...(opts.channel ? { channel: opts.channel } : {}) },
      order: { id: 'DESC' },
      take: opts.limit ?? 100,
    });
    return rows.map((row) => ({ channel: row.channel as MessageChannel, sentAt: row.sentAt, ...this.vault.openMessage(row) }));
  }

  /** A WeChat openId when asked for WECHAT messages, else a phone or an email address. */
  private indexOf(to: string, channel: MessageChannel | undefined): string | null {
    if (channel === 'WECHAT') return isIdentityId(to) ? recipientIndex(this.vault, 'WECHAT', to) : null;
    const email = to.includes('@') ? normalizeEmail(to) : null;
    if (email) return channel === 'SMS' ? null : recipientIndex(this.vault, 'EMAIL', email);
    const phone = normalizePhone(to);
    return phone && channel !== 'EMAIL' ? recipientIndex(this.vault, 'SMS', phone) : null;
  }
}
