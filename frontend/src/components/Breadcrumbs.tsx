// `alice › experiments › mnist`: every ancestor of a path, each a link.
import { Link } from "react-router-dom";
import { en } from "../i18n/en";
import { browseHref } from "./links";

export function Breadcrumbs({ path }: { path: string }) {
  const segments = path.split("/").filter(Boolean);
  return (
    <nav className="breadcrumbs" aria-label={en.browser.breadcrumbs}>
      <ol>
        {segments.map((name, i) => {
          const here = `/${segments.slice(0, i + 1).join("/")}`;
          const last = i === segments.length - 1;
          return (
            <li key={here}>
              {last ? <span aria-current="page">{name}</span> : <Link to={browseHref(here)}>{name}</Link>}
            </li>
          );
        })}
      </ol>
    </nav>
  );
}
