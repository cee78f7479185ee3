// The frame of every signed-in page: a header with the user menu, the navigation (folder tree and
// the sections App lists), and the page itself. Below 900 px the navigation folds behind a button.
import { useEffect, useState } from "react";
import { Link, NavLink, Outlet, useLocation, useNavigate } from "react-router-dom";
import { csrfToken } from "../api";
import { en } from "../i18n/en";
import { FolderTree } from "./FolderTree";
import { browseHref, pathFromBrowse } from "./links";
import { Menu } from "./Menu";
import { useSession } from "./session";

export interface NavSection {
  to: string;
  label: string;
}

/** Sign out the Django way: a POST with the CSRF token, then Django sends the browser to sign-in. */
export function signOut(): void {
  const form = document.createElement("form");
  form.method = "post";
  form.action = "/accounts/logout/";
  const token = document.createElement("input");
  token.type = "hidden";
  token.name = "csrfmiddlewaretoken";
  token.value = csrfToken();
  form.append(token);
  document.body.append(form);
  form.submit();
}

export function Layout({ sections }: { sections: NavSection[] }) {
  const { me } = useSession();
  const location = useLocation();
  const navigate = useNavigate();
  const [navOpen, setNavOpen] = useState(false);
  useEffect(() => setNavOpen(false), [location.pathname]);
  const openPath = location.pathname.startsWith("/browse/") ? pathFromBrowse(location.pathname) : undefined;

  return (
    <div className={navOpen ? "shell nav-open" : "shell"}>
      <a className="skip" href="#main">
        {en.app.skipToContent}
      </a>
      <header className="topbar">
        <button
          type="button"
          className="nav-toggle"
          aria-expanded={navOpen}
          aria-controls="nav"
          onClick={() => setNavOpen(!navOpen)}
        >
          ☰ {en.app.toggleNav}
        </button>
        <Link to="/" className="brand">
          <strong>{en.app.name}</strong> <span className="muted">{en.app.tagline}</span>
        </Link>
        <div className="topbar-end">
          <Menu
            label={en.user.menu(me.username)}
            text={`${me.username} ▾`}
            items={[
              { label: en.nav.apiKeys, onSelect: () => navigate("/keys") },
              { label: en.user.apiDocs, onSelect: () => window.location.assign("/api/docs/") },
              { label: en.user.signOut, onSelect: signOut },
            ]}
          />
        </div>
      </header>
      <nav id="nav" className="sidebar" aria-label={en.nav.label}>
        <h2 className="sidebar-title">{en.nav.folders}</h2>
        <FolderTree
          root={{ id: me.root.id, name: me.username, path: me.root.path }}
          label={en.nav.folders}
          openPath={openPath}
          renderItem={(folder) => (
            <NavLink to={browseHref(folder.path)} end className="tree-item">
              {folder.name}
            </NavLink>
          )}
        />
        <ul className="sections">
          {sections.map((section) => (
            <li key={section.to}>
              <NavLink to={section.to}>{section.label}</NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" className="content" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}
