// Groups I belong to or manage; managers (and staff) add and remove members.
import { useEffect, useState } from "react";
import { addToGroup, createGroup, listGroups, removeFromGroup, type Group } from "../api";
import { EmptyState, ErrorState, FormError, Loading, useSession } from "../components";
import { en } from "../i18n/en";

export function Groups() {
  const { me } = useSession();
  const [groups, setGroups] = useState<Group[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [version, setVersion] = useState(0);
  const [newName, setNewName] = useState("");
  const [createError, setCreateError] = useState<unknown>(null);

  useEffect(() => {
    const controller = new AbortController();
    listGroups(controller.signal).then(
      (g) => (setGroups(g), setError(null)),
      (e: unknown) => !controller.signal.aborted && setError(e),
    );
    return () => controller.abort();
  }, [version]);
  const reload = () => setVersion((v) => v + 1);

  return (
    <div className="page page-groups">
      <h1>{en.groups.title}</h1>
      <p className="muted">{en.groups.intro}</p>
      <form
        className="inline-form card"
        onSubmit={async (e) => {
          e.preventDefault();
          setCreateError(null);
          try {
            await createGroup(newName.trim());
            setNewName("");
            reload();
          } catch (err) {
            setCreateError(err);
          }
        }}
      >
        <label>
          {en.groups.groupName}
          <input value={newName} required onChange={(e) => setNewName(e.target.value)} />
        </label>
        <button type="submit">{en.groups.newGroup}</button>
        <FormError error={createError} />
      </form>
      {error ? (
        <ErrorState error={error} onRetry={reload} />
      ) : !groups ? (
        <Loading />
      ) : groups.length === 0 ? (
        <EmptyState title={en.groups.empty} />
      ) : (
        groups.map((group) => (
          <GroupCard
            key={group.id}
            group={group}
            manages={me.is_staff || group.managers.includes(me.username)}
            onChange={(g) => setGroups((all) => all?.map((x) => (x.id === g.id ? g : x)) ?? null)}
          />
        ))
      )}
    </div>
  );
}

function GroupCard({ group, manages, onChange }: { group: Group; manages: boolean; onChange: (g: Group) => void }) {
  const [username, setUsername] = useState("");
  const [error, setError] = useState<unknown>(null);

  async function run(action: () => Promise<Group>) {
    setError(null);
    try {
      onChange(await action());
      return true;
    } catch (e) {
      setError(e);
      return false;
    }
  }

  return (
    <section className="card" aria-labelledby={`group-${group.id}`}>
      <h2 id={`group-${group.id}`}>{group.name}</h2>
      {manages && <p className="muted">{en.groups.youManage}</p>}
      <p>
        <strong>{en.groups.managers}:</strong> {group.managers.join(", ") || en.common.none}
      </p>
      <h3>{en.groups.members}</h3>
      <ul className="members">
        {group.members.map((member) => (
          <li key={member}>
            {member}
            {manages && (
              <button
                type="button"
                className="link danger-text"
                aria-label={en.groups.removeMember(member)}
                onClick={() =>
                  run(async () => {
                    await removeFromGroup(group.id, "members", member);
                    return { ...group, members: group.members.filter((m) => m !== member) };
                  })
                }
              >
                {en.common.remove}
              </button>
            )}
          </li>
        ))}
      </ul>
      {manages && (
        <form
          className="inline-form"
          onSubmit={async (e) => {
            e.preventDefault();
            if (await run(() => addToGroup(group.id, "members", username.trim()))) setUsername("");
          }}
        >
          <input
            aria-label={en.groups.username}
            placeholder={en.groups.username}
            value={username}
            required
            onChange={(e) => setUsername(e.target.value)}
          />
          <button type="submit">{en.groups.addMember}</button>
        </form>
      )}
      <FormError error={error} />
    </section>
  );
}
