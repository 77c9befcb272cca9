/** How a message reaches a person; WECHAT (template messages) comes with the social identities. */
export type MessageChannel = 'SMS' | 'EMAIL';

export interface OutgoingMessage {
  channel: MessageChannel;
  /** E.164 phone for SMS, normalised address for EMAIL. */
  to: string;
  body: string;
}

/**
 * A delivery adapter (an SMS gateway, an email service, WeChat...). `send` is called only after
 * the transaction that decided to send has committed; a failure is the caller's to report.
 */
export interface MessageProvider {
  readonly name: string;
  send(message: OutgoingMessage): Promise<void>;
}

export interface RecordedMessage {
  channel: MessageChannel;
  to: string;
  body: string;
  sentAt: Date;
}

/** A provider that keeps what it sent and can show it again (the local adapter). */
export interface MessageRecorder extends MessageProvider {
  /** Messages to `to` (E.164 phone or email), newest first. */
  sentTo(to: string, limit?: number): Promise<RecordedMessage[]>;
}

export const isRecorder = (p: MessageProvider): p is MessageRecorder => typeof (p as MessageRecorder).sentTo === 'function';
