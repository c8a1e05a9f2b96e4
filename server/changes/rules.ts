// Who may change which message, and what a change must be: checked before a change entry is stored, on the
// same send path as a message (server/roomlog.ts), so that every rule on sending applies to changes too.
import type { Session } from '../accounts/accounts';
import type { Config } from '../config';
import { ApiError } from '../errors';
import { ErrorCode, type ChatMessage, type DeletedBy, type MessageChange } from '../protocol';
import type { MessageStore } from '../store/store';
import type { ChangeRequest } from '../validation';

/** What this person may do in a room, as far as changing messages goes: from roomAccess's answer (`moderate`). */
export interface ChangeRights {
  moderator: boolean;
}

/**
 * Whether `session` wrote `message`: the same name, the same kind (account or guest), and for a guest a
 * message from its own time: a guest's nickname is free again once its session ends, and the next guest of
 * that name is someone else.
 */
export function isAuthor(session: Pick<Session, 'nick' | 'guest' | 'since'>, message: ChatMessage): boolean {
  if (message.author !== session.nick || Boolean(message.account) === session.guest) return false;
  return !session.guest || message.at >= session.since;
}

/**
 * Whether `session` may delete `message`, and as whom: its author deletes it, a moderator removes anyone's
 * (their own too is a plain delete). Undefined: they may not.
 */
export function mayDelete(session: Pick<Session, 'nick' | 'guest' | 'since'>, message: ChatMessage, { moderator }: ChangeRights): DeletedBy | undefined {
  if (isAuthor(session, message)) return 'author';
  return moderator ? 'moderator' : undefined;
}

/** The caps a reaction must fit (server/config.ts: MAX_REACTION_EMOJI, MAX_REACTORS_PER_EMOJI). */
export type ReactionLimits = Pick<Config, 'maxReactionEmoji' | 'maxReactorsPerEmoji' | 'maxBufferedBytes'>;

/** Room for a reaction's JSON beside its emoji and name: quotes, commas, the braces of a new emoji's entry. */
const REACTION_OVERHEAD_BYTES = 32;

/**
 * The message `seq` of `room`, checked to be one a reply or a change can name: it exists in this room, is a
 * message (not a change entry) and is not deleted.
 */
export async function targetMessage(store: MessageStore, room: string, seq: number): Promise<ChatMessage> {
  const [found] = await store.readBefore(room, seq + 1, 1);
  if (!found || found.seq !== seq || found.change) {
    throw new ApiError(ErrorCode.invalidRequest, `#${room} has no message ${seq}`);
  }
  if (found.deleted) throw new ApiError(ErrorCode.forbidden, 'that message was deleted');
  return found;
}

/**
 * The change entry `session` asks to store, with who deleted filled in, and the message it changes; throws the
 * error the sender is told when they may not make it. The store applies it (server/changes/apply.ts).
 */
export async function checkChange(
  store: MessageStore,
  limits: ReactionLimits,
  session: Session,
  room: string,
  request: ChangeRequest,
  rights: ChangeRights,
): Promise<{ change: MessageChange; target: ChatMessage }> {
  const target = await targetMessage(store, room, request.target);
  switch (request.kind) {
    case 'edit':
      if (!isAuthor(session, target)) throw new ApiError(ErrorCode.forbidden, 'only its author can edit a message');
      return { change: request, target };
    case 'delete': {
      const by = mayDelete(session, target, rights);
      if (!by) throw new ApiError(ErrorCode.forbidden, 'only its author or a moderator can delete a message');
      return { change: { ...request, by }, target };
    }
    case 'reaction':
      if (!isOneEmoji(request.emoji)) throw new ApiError(ErrorCode.invalidRequest, 'a reaction is one emoji');
      if (request.on) checkReactionRoom(target, request.emoji, session.nick, limits);
      return { change: request, target };
  }
}

/**
 * A new reaction fits the caps. Checked on the record read before the append: two people adding the last
 * emoji at the same instant can pass it by one each, which the send rate bounds.
 */
function checkReactionRoom(target: ChatMessage, emoji: string, nick: string, limits: ReactionLimits): void {
  const reactions = target.reactions ?? [];
  const same = reactions.find((reaction) => reaction.emoji === emoji);
  if (!same && reactions.length >= limits.maxReactionEmoji) {
    throw new ApiError(ErrorCode.tooLarge, `a message has at most ${limits.maxReactionEmoji} different reactions`);
  }
  if (same && !same.names.includes(nick) && same.names.length >= limits.maxReactorsPerEmoji) {
    throw new ApiError(ErrorCode.tooLarge, `at most ${limits.maxReactorsPerEmoji} people can react with one emoji`);
  }
  // A replay or a history page goes out in parts of half MAX_BUFFERED_BYTES, each holding one message at
  // least: a message grown past that by long names under high caps would close its readers as slow.
  const grown = Buffer.byteLength(JSON.stringify(target)) + Buffer.byteLength(emoji + nick) + REACTION_OVERHEAD_BYTES;
  if (grown > limits.maxBufferedBytes / 2) throw new ApiError(ErrorCode.tooLarge, 'this message holds all the reactions it can');
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
/** A pictograph, a flag's regional indicator, or a keycap (1️⃣): what makes a grapheme an emoji. */
const EMOJI_PART = /\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20E3/u;
/** Letters, digits and marks standing as themselves: text, not an emoji (a keycap's digit is followed by U+20E3). */
const TEXT_PART = /\p{L}|\p{N}(?!\uFE0F?\u20E3)/u;

/** Whether `value` is one emoji: a single grapheme made of emoji, not text. */
export function isOneEmoji(value: string): boolean {
  const segments = [...graphemes.segment(value)];
  return segments.length === 1 && EMOJI_PART.test(value) && !TEXT_PART.test(value);
}
