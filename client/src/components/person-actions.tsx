// A moderator's actions on one person, in the people and member lists: mute or unmute, ban or unban, remove
// (private rooms), and, for the owner or an admin, make or unmake a moderator. A menu behind a small button.
import { useState } from 'preact/hooks';
import type { ModerationAction, RoomInfo, RoomMember } from '../../../server/protocol';
import { ApiFailure, moderate } from '../api';

interface Props {
  room: string;
  info: RoomInfo;
  name: string;
  /** Their standing, when they have one. */
  standing: RoomMember | undefined;
  /** An action was taken: ask for the room's standings again. */
  onChanged: () => void;
}

export function PersonActions({ room, info, name, standing, onChanged }: Props) {
  const [open, setOpen] = useState(false);
  const [problem, setProblem] = useState<string>();
  if (!info.moderate || standing?.role === 'owner') return null;
  const mayName = info.admin || info.role === 'owner';
  if (standing?.role === 'moderator' && !mayName) return null;
  const actions: { action: ModerationAction; label: string }[] = [
    standing?.muted ? { action: 'unmute', label: 'Unmute' } : { action: 'mute', label: 'Mute' },
    standing?.banned ? { action: 'unban', label: 'Unban' } : { action: 'ban', label: 'Ban' },
    ...(info.private && !info.dm && !standing?.banned ? [{ action: 'remove' as const, label: 'Remove from room' }] : []),
    ...(mayName && !standing?.banned ? [standing?.role === 'moderator' ? { action: 'demote' as const, label: 'Remove as moderator' } : { action: 'promote' as const, label: 'Make moderator' }] : []),
  ];
  const act = async (action: ModerationAction) => {
    setProblem(undefined);
    try {
      await moderate(room, name, action);
      setOpen(false);
      onChanged();
    } catch (error) {
      setProblem(error instanceof ApiFailure ? error.message : 'that did not work');
    }
  };
  return (
    <span class="person-actions">
      <button type="button" class="icon-button" aria-expanded={open} aria-label={`Moderate ${name}`} title={`Moderate ${name}`} onClick={() => setOpen(!open)}>
        <span aria-hidden="true">⋯</span>
      </button>
      {open && (
        <span class="person-menu" role="group" aria-label={`Actions on ${name}`}>
          {actions.map(({ action, label }) => (
            <button key={action} type="button" class="link-button" onClick={() => void act(action)}>
              {label}
            </button>
          ))}
          {problem && (
            <span class="form-error" role="alert">
              {problem}
            </span>
          )}
        </span>
      )}
    </span>
  );
}

/** The tags after a person's name: owner, moderator, muted, banned. */
export function StandingTags({ standing }: { standing: RoomMember | undefined }) {
  if (!standing) return null;
  const tags = [
    ...(standing.role === 'owner' ? ['owner'] : standing.role === 'moderator' ? ['moderator'] : []),
    ...(standing.muted ? ['muted'] : []),
    ...(standing.banned ? ['banned'] : []),
  ];
  return (
    <>
      {tags.map((tag) => (
        <span key={tag} class={`tag role-tag ${tag}-tag`}>
          {tag}
        </span>
      ))}
    </>
  );
}
