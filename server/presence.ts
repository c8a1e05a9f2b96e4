// Who is in a room now and who is typing: ephemeral, kept in memory, never stored. A WebSocket subscriber
// is present while subscribed; a long-poll reader while it keeps polling (it counts until POLL_GRACE after
// its last request). "Typing" lasts a few seconds after the last typing signal, or until that person's
// message is stored. Changes are coalesced per room and published at most every `debounceMs`, and only
// when the picture changed, so a busy room does not flood its readers; a room of thousands is published
// less often still, so that its presence costs at most `maxFramesPerSecond` frames a second. What it holds is
// bounded: typing is kept only for someone present in the room, and rooms that only long-poll readers keep
// (no WebSocket follows them) are at most `maxPolledRooms`, the least recently polled forgotten first.
import { PEOPLE_LIST_LIMIT, type PeopleState } from './protocol';

export interface PresenceOptions {
  /** A long-poll reader counts as present this long after its last request. */
  pollGraceMs: number;
  /** How long "typing" lasts after the last signal. */
  typingMs: number;
  /** Changes to one room are published at most this often. */
  debounceMs: number;
  /**
   * Each publication is one frame per reader: a room of N readers is published at most every
   * N / maxFramesPerSecond seconds (10,000 readers at 4,000 frames/s: every 2.5 s), when that is longer
   * than debounceMs. Default: no bound beyond debounceMs.
   */
  maxFramesPerSecond?: number;
  /**
   * Rooms kept for long-poll readers alone (no WebSocket in them): past it, the least recently polled is
   * forgotten (its readers count again at their next poll). Default: no bound.
   */
  maxPolledRooms?: number;
}

interface RoomPeople {
  /** nick -> WebSocket subscriptions of that nick to this room. */
  readonly sockets: Map<string, number>;
  /** Subscriptions without a session (reading without a nickname). */
  guests: number;
  /** When this room may be published next. */
  nextPublishAt: number;
  /** nick -> when that nick's long-poll reader stops counting as present. */
  readonly polling: Map<string, number>;
  /** nick -> when that nick stops counting as typing. */
  readonly typing: Map<string, number>;
  /**
   * Every nick present (a socket, or a recent poll), kept sorted as nicks come and go: a picture names
   * the first of them, and is not a sort of the whole room each time someone joins.
   */
  readonly present: SortedNames;
  /** The state last published, to publish only changes. */
  published: string;
}

export class Presence {
  private readonly rooms = new Map<string, RoomPeople>();
  /**
   * The rooms no WebSocket reads, that long-poll readers keep, least recently polled first (a Map keeps
   * insertion order, and each poll re-inserts its room). A room in it may since have gained a WebSocket
   * reader: such an entry is dropped, not the room, when its turn to go comes.
   */
  private readonly polledOnly = new Map<string, true>();
  private readonly dirty = new Set<string>();
  private flushTimer: NodeJS.Timeout | undefined;
  /** When flushTimer fires. */
  private flushDueAt = 0;
  private readonly sweepTimer: NodeJS.Timeout;

  constructor(
    private readonly options: PresenceOptions,
    /** Hands a room's new state to its readers. */
    private readonly publish: (room: string, state: PeopleState) => void,
  ) {
    // One sweep for every expiry (polling readers, typing signals), not a timer each.
    this.sweepTimer = setInterval(() => this.sweep(Date.now()), 1000);
    this.sweepTimer.unref();
  }

  /** A WebSocket subscribed to `room`, for `nick` (undefined: a reader without a nickname). */
  joined(room: string, nick: string | undefined): void {
    const people = this.room(room);
    if (nick === undefined) {
      people.guests++;
    } else {
      people.sockets.set(nick, (people.sockets.get(nick) ?? 0) + 1);
      people.present.add(nick);
    }
    this.polledOnly.delete(room);
    this.changed(room);
  }

  left(room: string, nick: string | undefined): void {
    const people = this.rooms.get(room);
    if (!people) return;
    if (nick === undefined) {
      people.guests = Math.max(0, people.guests - 1);
    } else {
      const count = (people.sockets.get(nick) ?? 1) - 1;
      if (count > 0) {
        people.sockets.set(nick, count);
      } else {
        people.sockets.delete(nick);
        if (!people.polling.has(nick)) people.present.delete(nick);
      }
    }
    if (!hasSockets(people) && people.polling.size > 0) this.polledOnly.set(room, true);
    this.changed(room);
  }

  /** A long-poll request from `nick` reached the server: present for the next pollGraceMs. */
  polled(room: string, nick: string, now = Date.now()): void {
    const people = this.room(room);
    if (!hasSockets(people)) this.keepPolledOnly(room);
    const known = people.polling.has(nick);
    people.polling.set(nick, now + this.options.pollGraceMs);
    if (known) return;
    people.present.add(nick);
    this.changed(room);
  }

  /**
   * `nick` is typing in `room`. Repeated signals only extend it: they publish nothing new. Kept only while
   * `nick` is present there, as only then is it shown: a signal for a room they are not in holds nothing.
   */
  typing(room: string, nick: string, now = Date.now()): void {
    const people = this.rooms.get(room);
    if (!people?.present.has(nick)) return;
    const known = people.typing.has(nick);
    people.typing.set(nick, now + this.options.typingMs);
    if (!known) this.changed(room);
  }

  /** `nick`'s message was stored: they are no longer typing it. */
  sent(room: string, nick: string): void {
    if (this.rooms.get(room)?.typing.delete(nick)) this.changed(room);
  }

  /** The room's picture: the first PEOPLE_LIST_LIMIT nicks present and typing, and how many are there. */
  state(room: string): PeopleState {
    const people = this.rooms.get(room);
    if (!people) return { room, present: [], presentCount: 0, typing: [], guests: 0 };
    const typing = [...people.typing.keys()].filter((nick) => people.sockets.has(nick) || people.polling.has(nick));
    return {
      room,
      present: people.present.first(PEOPLE_LIST_LIMIT),
      presentCount: people.present.size,
      typing: typing.sort(byName).slice(0, PEOPLE_LIST_LIMIT),
      guests: people.guests,
    };
  }

  close(): void {
    clearInterval(this.sweepTimer);
    clearTimeout(this.flushTimer);
    this.rooms.clear();
    this.polledOnly.clear();
    this.dirty.clear();
  }

  private sweep(now: number): void {
    for (const [name, people] of this.rooms) {
      for (const [nick, until] of people.polling) {
        if (until <= now) {
          people.polling.delete(nick);
          if (!people.sockets.has(nick)) people.present.delete(nick);
          this.changed(name);
        }
      }
      for (const [nick, until] of people.typing) {
        if (until <= now) {
          people.typing.delete(nick);
          this.changed(name);
        }
      }
    }
  }

  private changed(room: string): void {
    this.dirty.add(room);
    const now = Date.now();
    const due = Math.max(now + this.options.debounceMs, this.rooms.get(room)?.nextPublishAt ?? 0);
    // One timer for every room, set for the room due first: a big room's wait does not delay a small one.
    if (this.flushTimer === undefined || due < this.flushDueAt) this.scheduleFlush(due, now);
  }

  private scheduleFlush(at: number, now: number): void {
    clearTimeout(this.flushTimer);
    this.flushDueAt = at;
    this.flushTimer = setTimeout(() => this.flush(), Math.max(1, at - now));
  }

  /** Publishes the changed rooms that are due; those that are not stay dirty for a later flush. */
  private flush(now = Date.now()): void {
    this.flushTimer = undefined;
    let nextDue = Infinity;
    for (const room of this.dirty) {
      const people = this.rooms.get(room);
      if (people && people.nextPublishAt > now) {
        nextDue = Math.min(nextDue, people.nextPublishAt);
        continue;
      }
      this.dirty.delete(room);
      if (!people) continue;
      const state = this.state(room);
      const key = `${state.present.join('\n')}|${state.presentCount}|${state.typing.join('\n')}|${state.guests}`;
      if (people.published !== key) {
        people.published = key;
        people.nextPublishAt = now + this.publishInterval(people);
        this.publish(room, state);
      }
      if (!hasSockets(people) && people.polling.size === 0) this.forget(room);
    }
    if (nextDue !== Infinity) this.scheduleFlush(nextDue, now);
  }

  /** How long after a publication the room may be published again. */
  private publishInterval(people: RoomPeople): number {
    const { debounceMs, maxFramesPerSecond } = this.options;
    if (!maxFramesPerSecond) return debounceMs;
    // The readers a publication goes to: every WebSocket subscription, with a nickname or not.
    let readers = people.guests;
    for (const count of people.sockets.values()) readers += count;
    return Math.max(debounceMs, (readers / maxFramesPerSecond) * 1000);
  }

  /** Puts `room` last in the polled-only order, and forgets the least recently polled past maxPolledRooms. */
  private keepPolledOnly(room: string): void {
    this.polledOnly.delete(room);
    this.polledOnly.set(room, true);
    const max = this.options.maxPolledRooms ?? Number.POSITIVE_INFINITY;
    for (const oldest of this.polledOnly.keys()) {
      if (this.polledOnly.size <= max) return;
      const people = this.rooms.get(oldest);
      if (people && !hasSockets(people)) this.forget(oldest);
      else this.polledOnly.delete(oldest);
    }
  }

  private forget(room: string): void {
    this.rooms.delete(room);
    this.polledOnly.delete(room);
    this.dirty.delete(room);
  }

  private room(name: string): RoomPeople {
    let people = this.rooms.get(name);
    if (!people) {
      people = { sockets: new Map(), guests: 0, nextPublishAt: 0, polling: new Map(), typing: new Map(), present: new SortedNames(), published: '|0||0' };
      this.rooms.set(name, people);
    }
    return people;
  }
}

/** Whether a WebSocket reads the room (with a nickname or without). */
function hasSockets(people: RoomPeople): boolean {
  return people.sockets.size > 0 || people.guests > 0;
}

const collator = new Intl.Collator(undefined, { sensitivity: 'base' });

/** Reading order: letters before case and accents ("ana" next to "Ana"), code units between those. */
function byName(a: string, b: string): number {
  return collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}

/** A set of names kept in reading order: each add and delete is a binary search and one splice. */
export class SortedNames {
  private readonly names: string[] = [];

  get size(): number {
    return this.names.length;
  }

  has(name: string): boolean {
    return this.names[this.indexOf(name)] === name;
  }

  add(name: string): void {
    const at = this.indexOf(name);
    if (this.names[at] !== name) this.names.splice(at, 0, name);
  }

  delete(name: string): void {
    const at = this.indexOf(name);
    if (this.names[at] === name) this.names.splice(at, 1);
  }

  /** The first `count` names, in order. */
  first(count: number): string[] {
    return this.names.slice(0, count);
  }

  /** Where `name` is, or would go. */
  private indexOf(name: string): number {
    let low = 0;
    let high = this.names.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (byName(this.names[middle] as string, name) < 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}
