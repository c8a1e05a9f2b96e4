// The header's actions on a private room: invite someone by username (not in a DM, which is for two), and
// leave. Leaving takes the room off the sidebar and goes to the lobby.
import { useState } from 'preact/hooks';
import type { RoomInfo } from '../../../server/protocol';
import { ApiFailure, invite, leaveRoom } from '../api';
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
    const what = info.dm ? `the conversation with ${info.title}` : info.title;
    if (!confirm(`Leave ${what}? ${info.dm ? 'It comes back, with its history, when either of you opens it again.' : 'You need an invitation to come back.'}`)) return;
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
