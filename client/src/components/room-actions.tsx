// The header's actions on a private room: invite someone by username (not in a DM, which is for two), and
// leave. Leaving takes the room off the sidebar and goes to the lobby; the last member's leaving deletes the
// room, its messages and its files, which the question before says.
import { useState } from 'preact/hooks';
import type { RoomInfo } from '../../../server/protocol';
import { ApiFailure, invite, leaveRoom, listMembers } from '../api';
import { OneFieldForm } from './private-rooms';

interface Props {
  info: RoomInfo;
  onInvited: () => void;
  onLeft: () => void;
}

export function RoomActions({ info, onInvited, onLeft }: Props) {
  const [inviting, setInviting] = useState(false);
  const [problem, setProblem] = useState<string>();
  if (!info.private) return null;
  const leave = async () => {
    // The last member's leaving deletes the room with its messages and files: say so before, not after.
    const last = await listMembers(info.room).then(
      ({ members }) => members.filter((member) => !member.banned).length <= 1,
      () => false,
    );
    if (!confirm(leaveQuestion(info, last))) return;
    try {
      await leaveRoom(info.room);
      onLeft();
    } catch (error) {
      setProblem(error instanceof ApiFailure ? error.message : 'could not leave the room');
    }
  };
  return (
    <div class="room-actions">
      {!info.dm && (
        <button type="button" class="link-button" aria-expanded={inviting} onClick={() => setInviting(!inviting)}>
          Invite
        </button>
      )}
      <button type="button" class="link-button" onClick={() => void leave()}>
        Leave
      </button>
      {problem && (
        <span class="form-error" role="alert">
          {problem}
        </span>
      )}
      {inviting && (
        <div class="invite-form">
          <OneFieldForm
            id="invite"
            label="Username to invite"
            placeholder="Username to invite…"
            submit="Invite"
            act={(username) => invite(info.room, username)}
            onDone={() => {
              setInviting(false);
              onInvited();
            }}
          />
        </div>
      )}
    </div>
  );
}

/** What the page asks before `info`'s room is left; `last`: nobody else is in it (the room goes with the leave). */
function leaveQuestion(info: RoomInfo, last: boolean): string {
  if (info.dm) {
    return last
      ? `Leave the conversation with ${info.title}? ${info.title} has left it: it is deleted, with its messages and files. Either of you can start a new one.`
      : `Leave the conversation with ${info.title}? It comes back, with its history, when either of you opens it again.`;
  }
  return last
    ? `Leave ${info.title}? You are its last member: the room is deleted, with its messages and files, for good.`
    : `Leave ${info.title}? You need an invitation to come back.`;
}
