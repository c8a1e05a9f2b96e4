// Who is in a room now and who is typing: ephemeral, kept in memory, never stored. A WebSocket subscriber
// is present while subscribed; a long-poll reader while it keeps polling (it counts until POLL_GRACE after
// its last request). "Typing" lasts a few seconds after the last typing signal, or until that person's
// message is stored. Changes are coalesced per room and published at most every `debounceMs`, and only
// when the picture changed, so a busy room does not flood its readers.
import type { PeopleState } from './protocol';

export interface PresenceOptions {
  /** A long-poll reader counts as present this long after its last request. */
  pollGraceMs: number;
  /** How long "typing" lasts after the last signal. */
  typingMs: number;
  /** Changes to one room are published at most this often. */
  debounceMs: number;
}

interface RoomPeople {
  /** nick -> WebSocket subscriptions of that nick to this room. */
  readonly sockets: Map<string, number>;
  /** Subscriptions without a session (reading without a nickname). */
  guests: number;
  /** nick -> when that nick's long-poll reader stops counting as present. */
  readonly polling: Map<string, number>;
  /** nick -> when that nick stops counting as typing. */
  readonly typing: Map<string, number>;
  /** The state last published, to publish only changes. */
  published: string;
}

export class Presence {
  private readonly rooms = new Map<string, RoomPeople>();
  private readonly dirty = new Set<string>();
  private flushTimer: NodeJS.Timeout | undefined;
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
    if (nick === undefined) people.guests++;
    else people.sockets.set(nick, (people.sockets.get(nick) ?? 0) + 1);
    this.changed(room);
  }

  left(room: string, nick: string | undefined): void {
    const people = this.rooms.get(room);
    if (!people) return;
    if (nick === undefined) {
      people.guests = Math.max(0, people.guests - 1);
    } else {
      const count = (people.sockets.get(nick) ?? 1) - 1;
      if (count > 0) people.sockets.set(nick, count);
      else people.sockets.delete(nick);
    }
    this.changed(room);
  }

  /** A long-poll request from `nick` reached the server: present for the next pollGraceMs. */
  polled(room: string, nick: string, now = Date.now()): void {
    const people = this.room(room);
    const known = people.polling.has(nick);
    people.polling.set(nick, now + this.options.pollGraceMs);
    if (!known) this.changed(room);
  }

  /** `nick` is typing in `room`. Repeated signals only extend it: they publish nothing new. */
  typing(room: string, nick: string, now = Date.now()): void {
    const people = this.room(room);
    const known = people.typing.has(nick);
    people.typing.set(nick, now + this.options.typingMs);
    if (!known) this.changed(room);
  }

  /** `nick`'s message was stored: they are no longer typing it. */
  sent(room: string, nick: string): void {
    if (this.rooms.get(room)?.typing.delete(nick)) this.changed(room);
  }

  state(room: string): PeopleState {
    const people = this.rooms.get(room);
    if (!people) return { room, present: [], typing: [], guests: 0 };
    const present = [...new Set([...people.sockets.keys(), ...people.polling.keys()])].sort(byName);
    const typing = [...people.typing.keys()].filter((nick) => present.includes(nick)).sort(byName);
    return { room, present, typing, guests: people.guests };
  }

  close(): void {
    clearInterval(this.sweepTimer);
    clearTimeout(this.flushTimer);
    this.rooms.clear();
    this.dirty.clear();
  }

  private sweep(now: number): void {
    for (const [name, people] of this.rooms) {
      for (const [nick, until] of people.polling) {
        if (until <= now) {
          people.polling.delete(nick);
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
    this.flushTimer ??= setTimeout(() => this.flush(), this.options.debounceMs);
  }

  private flush(): void {
    this.flushTimer = undefined;
    for (const room of this.dirty) {
      const state = this.state(room);
      const people = this.rooms.get(room);
      const key = `${state.present.join('\n')}|${state.typing.join('\n')}|${state.guests}`;
      if (people && people.published !== key) {
        people.published = key;
        this.publish(room, state);
      }
      if (people && people.sockets.size === 0 && people.polling.size === 0 && people.guests === 0) this.rooms.delete(room);
    }
    this.dirty.clear();
  }

  private room(name: string): RoomPeople {
    let people = this.rooms.get(name);
    if (!people) {
      people = { sockets: new Map(), guests: 0, polling: new Map(), typing: new Map(), published: '||0' };
      this.rooms.set(name, people);
    }
    return people;
  }
}

function byName(a: string, b: string): number {
  return a.localeCompare(b, undefined, { sensitivity: 'base' });
}
