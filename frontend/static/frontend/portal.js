// The placeholder portal: shows the signed-in user's root folder through the public REST API.
(async function () {
  const body = document.querySelector("#children tbody");
  const row = (cells) => {
    const tr = document.createElement("tr");
    for (const text of cells) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.appendChild(td);
    }
    return tr;
  };
  try {
    const me = await (await fetch("/api/v1/me")).json();
    document.getElementById("folder-path").textContent = me.root.path;
    const page = await (await fetch(`/api/v1/nodes/${me.root.id}/children?ordering=kind`)).json();
    body.replaceChildren(...page.results.map((n) => row([n.name, n.kind, new Date(n.modified_at).toLocaleString()])));
    if (!page.results.length) body.replaceChildren(row(["This folder is empty.", "", ""]));
  } catch (err) {
    const tr = row([`Could not load your folders: ${err}`, "", ""]);
    tr.className = "error";
    body.replaceChildren(tr);
  }
})();
