// The sidebar's list of a private room's members, or of a public room's people with a role, a mute or a ban,
// each with their tags and, for a moderator, the actions on them.
import type { RoomInfo, RoomMember } from '../../../server/protocol';
import { PersonActions, StandingTags } from './person-actions';

interface Props {
  room: string;
  info: RoomInfo;
  members: RoomMember[];
  me: string;
  onChanged: () => void;
}

export function MemberList({ room, info, members, me, onChanged }: Props) {
  if (!info.private && members.length === 0) return null;
  return (
    <section aria-labelledby="members-heading" class="people members">
      <h2 id="members-heading">{info.private ? `Members (${members.filter((m) => !m.banned).length})` : 'Roles and bans'}</h2>
      <ul class="people-list">
        {members.map((member) => (
          <li key={member.name}>
            {member.name}
            {member.name === me && <span class="you"> (you)</span>} <StandingTags standing={member} />
            {member.name !== me && <PersonActions room={room} info={info} name={member.name} standing={member} onChanged={onChanged} />}
          </li>
        ))}
      </ul>
    </section>
  );
}
