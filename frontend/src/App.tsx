// The portal's routes and the navigation that leads to them. A part adds its pages here: a route
// (and, for a top-level section, a NavSection), everything else comes from the shared Layout.
import { BrowserRouter, Navigate, Route, Routes } from "react-router-dom";
import { ArtifactPage, AssetHubPage, AssetPage } from "./assets";
import { AutoTunePage } from "./autotune";
import { browseHref, Layout, SessionProvider, useSession, type NavSection } from "./components";
import { en } from "./i18n/en";
import { ApiKeys } from "./pages/ApiKeys";
import { FolderBrowser } from "./pages/FolderBrowser";
import { Groups } from "./pages/Groups";
import { LineagePage } from "./lineage";
import { NotFound, SignIn } from "./pages/Misc";
import { Public, SharedWithMe, Trash } from "./pages/NodeLists";
import { ComparePage, RunPage, RunsPage } from "./runs";

/** The sections under the folder tree, in order (part 2 adds the Asset Hub here). */
export const SECTIONS: NavSection[] = [
  { to: "/shared", label: en.nav.sharedWithMe },
  { to: "/public", label: en.nav.public },
  { to: "/runs", label: en.nav.runs },
  { to: "/compare", label: en.nav.compare },
  { to: "/assethub", label: en.nav.assetHub },
  { to: "/trash", label: en.nav.trash },
  { to: "/keys", label: en.nav.apiKeys },
  { to: "/groups", label: en.nav.groups },
];

function Home() {
  const { me } = useSession();
  return <Navigate to={browseHref(me.root.path)} replace />;
}

export function App() {
  return (
    <BrowserRouter>
      <Routes>
        <Route path="/signin" element={<SignIn />} />
        <Route
          path="/lineage"
          element={
            <SessionProvider>
              <LineagePage />
            </SessionProvider>
          }
        />
        <Route
          element={
            <SessionProvider>
              <Layout sections={SECTIONS} />
            </SessionProvider>
          }
        >
          <Route index element={<Home />} />
          <Route path="browse/*" element={<FolderBrowser />} />
          <Route path="shared" element={<SharedWithMe />} />
          <Route path="public" element={<Public />} />
          <Route path="trash" element={<Trash />} />
          <Route path="keys" element={<ApiKeys />} />
          <Route path="groups" element={<Groups />} />
          <Route path="runs" element={<RunsPage />} />
          <Route path="runs/:id" element={<RunPage />} />
          <Route path="compare" element={<ComparePage />} />
          <Route path="assethub" element={<AssetHubPage />} />
          <Route path="assets/:id" element={<AssetPage />} />
          <Route path="artifacts/:id" element={<ArtifactPage />} />
          <Route path="autotune/:id" element={<AutoTunePage />} />
          <Route path="*" element={<NotFound />} />
        </Route>
      </Routes>
    </BrowserRouter>
  );
}
