/** How a message reaches a person: SMS, email, or a WeChat template message. */
export type MessageChannel = 'SMS' | 'EMAIL' | 'WECHAT';

/** A text message: to an E.164 phone (SMS) or a normalised address (EMAIL). */
export interface TextMessage {
  channel: 'SMS' | 'EMAIL';
  to: string;
  body: string;
}

/**
 * A WeChat template message: to the openId of a user of the brand's official account, a template
 * approved in the WeChat console and its keyword values (`{ first, keyword1, remark }`...), with an
 * optional page it opens.
 */
export interface WechatTemplateMessage {
  channel: 'WECHAT';
  /** The recipient's openId (official account). */
  to: string;
  templateId: string;
  data: Record<string, string>;
  url?: string;
}

export type OutgoingMessage = TextMessage | WechatTemplateMessage;

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
  /** Messages to `to` (E.164 phone or email; an openId for WECHAT), newest first. */
  sentTo(to: string, opts?: { channel?: MessageChannel; limit?: number }): Promise<RecordedMessage[]>;
}

export const isRecorder = (p: MessageProvider): p is MessageRecorder => typeof (p as MessageRecorder).sentTo === 'function';

/** The text a message shows: a template message as its template id, keyword values in order and link. */
export function messageText(message: OutgoingMessage): string {
  if (message.channel !== 'WECHAT') return message.body;
  const values = Object.entries(message.data).map(([k, v]) => `${k}: ${v}`);
  return [`[template ${message.templateId}]`, ...values, ...(message.url ? [`url: ${message.url}`] : [])].join('\n');
}
