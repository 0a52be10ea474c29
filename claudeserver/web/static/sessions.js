// The sessions list and the form that creates one for a project directory.

import { call } from "./api.js";
import { h, replace, when } from "./dom.js";

export function sessionsView({ main, showError }) {
  const list = h("div", { class: "table-wrap" }, h("p", {}, "Loading…"));
  const path = h("input", {
    id: "project-path", name: "project_path", required: true, autocomplete: "off",
    placeholder: "/abs/path/to/project", spellcheck: "false",
  });
  const form = h("form", { class: "stack", onsubmit: create },
    h("label", { for: "project-path" }, "Project directory (absolute path on the server)"),
    h("div", { class: "row" }, path, h("button", { type: "submit" }, "Create session")),
  );
  replace(main,
    h("h1", {}, "Sessions"),
    h("section", { "aria-labelledby": "new-session" },
      h("h2", { id: "new-session" }, "New session"), form),
    h("section", { "aria-labelledby": "all-sessions" },
      h("h2", { id: "all-sessions" }, "All sessions"), list),
  );

  async function create(event) {
    event.preventDefault();
    try {
      const session = await call("POST", "/api/v1/sessions", { project_path: path.value.trim() });
      location.hash = `#/sessions/${encodeURIComponent(session.id)}`;
    } catch (error) {
      showError(error);
    }
  }

  call("GET", "/api/v1/sessions").then((sessions) => {
    if (!sessions.length) return replace(list, h("p", {}, "No sessions yet."));
    replace(list, h("table", {},
      h("thead", {}, h("tr", {},
        h("th", { scope: "col" }, "Project"), h("th", { scope: "col" }, "Created"),
        h("th", { scope: "col" }, "Session id"))),
      h("tbody", {}, sessions.map((s) => h("tr", {},
        h("td", {}, h("a", { href: `#/sessions/${encodeURIComponent(s.id)}` }, s.project_path)),
        h("td", {}, when(s.created_at)),
        h("td", { class: "mono" }, s.id)))),
    ));
  }, (error) => {
    replace(list, h("p", {}, "Could not load the sessions."));
    showError(error);
  });
  return () => {};
}
