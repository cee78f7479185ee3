// The runs table's column chooser: every param, metric and tag key found in the runs loaded so far.
import { Dialog } from "../components";
import { KEY_KINDS, columnId, type KeyColumn, type KeySets } from "./columns";
import { runsEn } from "./strings";

export function ColumnPicker(props: {
  keys: KeySets;
  chosen: KeyColumn[];
  onChange: (next: KeyColumn[]) => void;
  onClose: () => void;
}) {
  const { keys, chosen, onChange, onClose } = props;
  const on = new Set(chosen.map(columnId));
  const headings = { params: runsEn.list.paramsHeading, metrics: runsEn.list.metricsHeading, tags: runsEn.list.tagsHeading };
  const empty = KEY_KINDS.every((k) => keys[k].size === 0);
  return (
    <Dialog title={runsEn.list.columnsTitle} onClose={onClose} wide>
      {empty && <p className="muted">{runsEn.list.noKeys}</p>}
      <div className="column-picker">
        {KEY_KINDS.filter((kind) => keys[kind].size > 0).map((kind) => (
          <fieldset key={kind}>
            <legend>{headings[kind]}</legend>
            {[...keys[kind]].sort().map((key) => {
              const c = { kind, key };
              return (
                <label key={key} className="inline-check">
                  <input
                    type="checkbox"
                    checked={on.has(columnId(c))}
                    onChange={(e) =>
                      onChange(e.target.checked ? [...chosen, c] : chosen.filter((x) => columnId(x) !== columnId(c)))
                    }
                  />
                  {key}
                </label>
              );
            })}
          </fieldset>
        ))}
      </div>
    </Dialog>
  );
}
